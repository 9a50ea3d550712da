//! A network shape named on a command line or in a run file: `INPUTS-HIDDEN-OUTPUTS`, checked
//! against the elaboration limits of the weight memory it must fit.

use zo_hdl::config::{Shape, ShapeError};

/// Parses `N-H-O` (`zo_hdl::config::Shape`'s `FromStr`) and checks that the network fits a
/// weight memory of `2^aw` words (`Shape::check`); the error is the message a user reads.
/// The virtual boards take `aw = zo_sim::device::vboard::VIRTUAL_AW`, the board builds 12.
pub fn parse_shape(s: &str, aw: usize) -> Result<Shape, String> {
    let shape: Shape = s.parse().map_err(|e: ShapeError| e.to_string())?;
    shape.check(aw).map_err(|e| e.to_string())?;
    Ok(shape)
}
