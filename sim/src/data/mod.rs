//! Data and training runs on the host side of the learner.
//!
//! - [`dataset`]: built-in datasets, file readers and the stratified split.
//! - [`scaling`]: from raw feature values to the learner's signed Q0.7 input bytes.
//! - [`schedule`]: the training schedule every run follows (split, initial weights, epoch
//!   seeds, sample order, step decay).
//! - [`tune`]: self-tuning on the reference model.
pub mod dataset;
pub mod scaling;
pub mod schedule;
pub mod tune;
