//! `loss.svg` and `accuracy.svg` (and PNGs on request) from a run's epoch records, drawn with
//! plotters. Text uses DejaVu Sans embedded in the binary, so no system font is needed.

use crate::rundir::EpochRecord;
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

const SIZE: (u32, u32) = (800, 480);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// One line of a chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
}

/// A line chart.
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Fixed y range, or None to fit the data.
    pub y_range: Option<(f64, f64)>,
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let all = chart.series.iter().flat_map(|s| s.points.iter());
    let x_max = all.clone().map(|p| p.0).fold(1.0, f64::max);
    let (y_min, y_max) = chart.y_range.unwrap_or_else(|| {
        let lo = all.clone().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = all.clone().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            (0.0, 1.0)
        } else {
            let pad = ((hi - lo) * 0.05).max(1e-3);
            ((lo - pad).max(0.0), hi + pad)
        }
    });
    let mut ctx = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, y_min..y_max)
        .map_err(err)?;
    ctx.configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(&chart.y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for s in &chart.series {
        let color = s.color;
        ctx.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(err)?
        .label(s.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Renders `chart` as SVG text.
pub fn svg(chart: &Chart) -> Result<String> {
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(root, chart)?;
    }
    Ok(out)
}

/// Renders `chart` as a PNG file (written next to `path` and renamed).
pub fn png(chart: &Chart, path: &Path) -> Result<()> {
    register_font();
    // The bitmap backend picks the format from the extension, so the temporary name ends in .png.
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{stem}.tmp.png"));
    {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw(root, chart)?;
    }
    std::fs::rename(&tmp, path).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

const BLUE_: RGBColor = RGBColor(31, 119, 180);
const ORANGE_: RGBColor = RGBColor(255, 127, 14);

/// The loss and accuracy charts of a run.
pub fn run_charts(title: &str, loss_kind: &str, records: &[EpochRecord]) -> (Chart, Chart) {
    let pts = |f: fn(&EpochRecord) -> f64| -> Vec<(f64, f64)> {
        records.iter().map(|r| (r.epoch as f64, f(r))).collect()
    };
    let unit = if loss_kind == "ce" {
        "loss (bits)"
    } else {
        "squared error"
    };
    let loss = Chart {
        title: format!("{title}: loss"),
        y_label: unit.into(),
        series: vec![
            Series {
                label: "train (perturbed, mean of L+ and L-)".into(),
                points: pts(|r| r.loss),
                color: BLUE_,
            },
            Series {
                label: "test (clean)".into(),
                points: pts(|r| r.test_loss),
                color: ORANGE_,
            },
        ],
        y_range: None,
    };
    let acc = Chart {
        title: format!("{title}: accuracy"),
        y_label: "accuracy".into(),
        series: vec![
            Series {
                label: "train".into(),
                points: pts(|r| r.train_accuracy),
                color: BLUE_,
            },
            Series {
                label: "test".into(),
                points: pts(|r| r.test_accuracy),
                color: ORANGE_,
            },
        ],
        y_range: Some((0.0, 1.0)),
    };
    (loss, acc)
}

/// Writes `loss.svg` and `accuracy.svg` (and the PNGs with `png`) into `dir`.
pub fn write_run_plots(
    dir: &Path,
    title: &str,
    loss_kind: &str,
    records: &[EpochRecord],
    png_too: bool,
) -> Result<()> {
    let (loss, acc) = run_charts(title, loss_kind, records);
    for (name, chart) in [("loss", &loss), ("accuracy", &acc)] {
        let p = dir.join(format!("{name}.svg"));
        crate::util::write_atomic(&p, svg(chart)?.as_bytes())
            .map_err(|e| anyhow!("cannot write {}: {e}", p.display()))?;
        if png_too {
            png(chart, &dir.join(format!("{name}.png")))?;
        }
    }
    Ok(())
}
