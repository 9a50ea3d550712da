//! Boards: where a device runs. Board data, the board top-level and the iCE40 PLL.
pub mod ice40_pll;
pub mod top;
