//! `Model::dead_fraction`: hidden units whose clean activation is zero on every sample.

use zo_hdl::config::Shape;
use zo_sim::model::Model;

#[test]
fn units_with_negative_bias_and_no_input_weight_are_dead() {
    let shape = Shape::new(2, 4, 2);
    let mut m = Model::new(shape, 1);
    let mut w = vec![0i16; shape.n_weights()];
    // Rows of layer 1: [w_x0, w_x1, bias]. Unit 0 fires on x0 > 0; unit 1 has a negative bias
    // and no input weight (dead); unit 2 fires always (positive bias); unit 3 fires on x1 < 0.
    let rows: [[i16; 3]; 4] = [[4096, 0, 0], [0, 0, -4096], [0, 0, 2048], [0, -4096, 0]];
    for (r, row) in rows.iter().enumerate() {
        w[r * 3..r * 3 + 3].copy_from_slice(row);
    }
    m.set_weights(&w);
    // Inputs are signed Q0.7 bytes: 64 = 0.5, 0xC0 = -0.5.
    let xs = vec![vec![64u8, 64], vec![0xC0, 0xC0]];
    assert_eq!(m.dead_fraction(&xs), 0.25);
    // Without negative x1, unit 3 never fires either.
    assert_eq!(m.dead_fraction(&xs[..1]), 0.5);
    assert_eq!(m.dead_fraction(&[]), 0.0);
    // Counting changes no counter.
    assert_eq!(m.counters, Default::default());
}
