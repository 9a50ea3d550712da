//! End-to-end tests of the zeroth-order learner live in `tests/`; this crate has no code.
