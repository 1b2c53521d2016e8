//! The portfolio charts, drawn by `plotters` (SVG backend, into a string): the aged balance as
//! stacked bars by bucket, DSO and CEI as lines, amounts chased, promised and collected as
//! grouped bars per period, messages by channel and cases in error as bars. Each comes with
//! the table of the numbers it draws ([`Chart::table`]), so a page shows both.
//!
//! Money stays a `Decimal` in the tables; it is converted to `f64` only in [`to_f64`], where a
//! bar's height is handed to plotters. The layout (bars, gaps, category labels under the axis)
//! is ours; axes, ticks, legends and text are plotters'. No font file is read: plotters'
//! SVG backend writes `<text>` elements and estimates their size without fonts.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::series::{ActivityPoint, AgedPoint, ChannelCount, ErrorPoint, RatioPoint};
use crate::svg::accessible;
use crate::{Lang, PictureError};

/// The size of every chart, in SVG user units.
const SIZE: (u32, u32) = (760, 400);

/// The height of the plotting area, about (for leaving room to the legend).
const PLOT_HEIGHT: f64 = 290.0;

/// The top of the y axis: above the highest value by the legend's height (`series` rows in
/// the upper left corner), so the legend never hides a bar.
fn headroom(highest: f64, series: usize) -> f64 {
    let legend = (16.0 * series as f64 + 24.0) / PLOT_HEIGHT;
    if highest > 0.0 {
        highest / (1.0 - legend.min(0.6))
    } else {
        1.0
    }
}

/// A drawn chart and the table of what it draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// A standalone `<svg>` element with `role="img"`, an `aria-label` and a `<title>`.
    pub svg: String,
    pub table: Table,
}

impl Chart {
    /// A chart from its drawn `svg` (made accessible with `title` and `summary`) and the table
    /// of what it draws (captioned `title`).
    fn new(
        svg: &str,
        title: String,
        summary: &str,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
        lang: Lang,
    ) -> Chart {
        Chart {
            svg: accessible(svg, &title, summary, lang),
            table: Table {
                caption: title,
                columns,
                rows,
            },
        }
    }
}

/// The numbers a chart draws, as the page shows them (formatted for its language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One series of bars: its legend, its colour and a value per category.
struct Bars {
    label: String,
    color: RGBColor,
    values: Vec<f64>,
}

/// A series of bars per name, coloured in order: series `k` holds `value(item, k)` for each
/// item, in order.
fn bars<T>(
    names: &[&str],
    colors: &[RGBColor],
    items: &[T],
    value: impl Fn(&T, usize) -> f64,
) -> Vec<Bars> {
    names
        .iter()
        .zip(colors)
        .enumerate()
        .map(|(k, (name, color))| Bars {
            label: name.to_string(),
            color: *color,
            values: items.iter().map(|item| value(item, k)).collect(),
        })
        .collect()
}

/// Colours from the Okabe-Ito palette (readable by colour-blind readers), older buckets
/// darker.
const NOT_DUE: RGBColor = RGBColor(0, 158, 115);
const LATE_30: RGBColor = RGBColor(240, 228, 66);
const LATE_60: RGBColor = RGBColor(230, 159, 0);
const LATE_90: RGBColor = RGBColor(213, 94, 0);
const LATE_OVER: RGBColor = RGBColor(150, 30, 30);
const DISPUTED: RGBColor = RGBColor(204, 121, 167);
const BLUE: RGBColor = RGBColor(0, 114, 178);
const SKY: RGBColor = RGBColor(86, 180, 233);
const GREEN: RGBColor = NOT_DUE;
const ORANGE: RGBColor = LATE_60;
const RED: RGBColor = LATE_90;

/// Money (or any decimal) to a drawing coordinate. The only place a `Decimal` becomes a float.
fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

fn err(e: impl std::fmt::Display) -> PictureError {
    PictureError(e.to_string())
}

/// The aged balance over time: one stacked bar per date, a segment per bucket (not due, 1–30,
/// 31–60, 61–90, over 90 days late, and disputed amounts whatever their age).
pub fn aged_balance(
    points: &[AgedPoint],
    currency: &str,
    lang: Lang,
) -> Result<Chart, PictureError> {
    let title = format!(
        "{} ({currency})",
        lang.pick("Aged balance by bucket", "Balance âgée par tranche")
    );
    let names = [
        lang.pick("not due", "non échu"),
        lang.pick("1–30 days", "1–30 jours"),
        lang.pick("31–60 days", "31–60 jours"),
        lang.pick("61–90 days", "61–90 jours"),
        lang.pick("over 90 days", "plus de 90 jours"),
        lang.pick("disputed", "en litige"),
    ];
    let colors = [NOT_DUE, LATE_30, LATE_60, LATE_90, LATE_OVER, DISPUTED];
    let cells = |p: &AgedPoint| {
        let b = &p.buckets;
        [
            b.not_due,
            b.days_1_30,
            b.days_31_60,
            b.days_61_90,
            b.over_90,
            b.disputed,
        ]
    };
    let series = bars(&names, &colors, points, |p, k| to_f64(cells(p)[k]));
    let categories: Vec<String> = points.iter().map(|p| p.date.to_string()).collect();
    let mut columns = vec![lang.pick("date", "date").to_string()];
    columns.extend(names.iter().map(|n| n.to_string()));
    columns.push(lang.pick("total", "total").to_string());
    let rows = points
        .iter()
        .map(|p| {
            let mut row = vec![p.date.to_string()];
            row.extend(cells(p).iter().map(|v| lang.money(*v)));
            row.push(lang.money(p.buckets.total));
            row
        })
        .collect();
    let summary = match (points.first(), points.last()) {
        (Some(first), Some(last)) => format!(
            "{title}: {} {} {} {} {}; {} {} {currency}, {} {} {currency}.",
            points.len(),
            lang.pick("dates from", "dates du"),
            first.date,
            lang.pick("to", "au"),
            last.date,
            lang.pick("last total", "dernier total"),
            lang.money(last.buckets.total),
            lang.pick("of which overdue", "dont échu"),
            lang.money(last.buckets.overdue()),
        ),
        _ => format!("{title}: {}.", lang.pick("no data", "aucune donnée")),
    };
    let svg = bar_chart(&title, &categories, &series, true, currency)?;
    Ok(Chart::new(&svg, title, &summary, columns, rows, lang))
}

/// DSO (days, left axis) and CEI (percent, right axis) over time, as lines with a point per
/// date. A date without a figure breaks neither line: the line joins the dates that have one.
pub fn dso_cei(points: &[RatioPoint], lang: Lang) -> Result<Chart, PictureError> {
    let title = lang
        .pick("DSO and CEI over time", "DSO et CEI dans le temps")
        .to_string();
    let dso_label = lang.pick("DSO (days)", "DSO (jours)");
    let cei_label = lang.pick("CEI (%)", "CEI (%)");
    let categories: Vec<String> = points.iter().map(|p| p.date.to_string()).collect();
    let dso: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.dso.map(|d| (i as f64 + 0.5, to_f64(d))))
        .collect();
    let cei: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.cei.map(|c| (i as f64 + 0.5, to_f64(c))))
        .collect();
    let top = headroom(dso.iter().map(|p| p.1).fold(10.0_f64, f64::max), 2);
    let cei_top = headroom(100.0, 2);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = points.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .caption(&title, ("sans-serif", 18))
            .x_label_area_size(40)
            .y_label_area_size(56)
            .right_y_label_area_size(56)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(err)?
            .set_secondary_coord(0f64..n, 0f64..cei_top);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .light_line_style(WHITE)
            .y_desc(dso_label)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_desc(cei_label)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(dso.iter().copied(), BLUE.stroke_width(2)))
            .map_err(err)?
            .label(dso_label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(dso.iter().map(|p| Circle::new(*p, 4, BLUE.filled())))
            .map_err(err)?;
        chart
            .draw_secondary_series(LineSeries::new(cei.iter().copied(), ORANGE.stroke_width(2)))
            .map_err(err)?
            .label(cei_label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], ORANGE.stroke_width(2)));
        chart
            .draw_secondary_series(cei.iter().map(|p| Circle::new(*p, 4, ORANGE.filled())))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        let label_at = |i: usize| chart.backend_coord(&(i as f64 + 0.5, 0.0));
        category_labels(&root, &categories, label_at)?;
        root.present().map_err(err)?;
    }
    let cell = |v: Option<Decimal>| v.map_or_else(|| "—".to_string(), |v| lang.number(v));
    let rows = points
        .iter()
        .map(|p| vec![p.date.to_string(), cell(p.dso), cell(p.cei)])
        .collect();
    let summary = match points.last() {
        Some(last) => format!(
            "{title}: {} {}; {} {}: DSO {}, CEI {}.",
            points.len(),
            lang.pick("dates", "dates"),
            lang.pick("on", "au"),
            last.date,
            cell(last.dso),
            cell(last.cei),
        ),
        None => format!("{title}: {}.", lang.pick("no data", "aucune donnée")),
    };
    let columns = vec![
        lang.pick("date", "date").to_string(),
        dso_label.to_string(),
        cei_label.to_string(),
    ];
    Ok(Chart::new(&out, title, &summary, columns, rows, lang))
}

/// Amounts chased, promised and collected: three bars side by side per period.
pub fn activity(
    points: &[ActivityPoint],
    currency: &str,
    lang: Lang,
) -> Result<Chart, PictureError> {
    let title = format!(
        "{} ({currency})",
        lang.pick(
            "Amounts chased, promised and collected",
            "Montants relancés, promis et encaissés"
        )
    );
    let names = [
        lang.pick("chased", "relancé"),
        lang.pick("promised", "promis"),
        lang.pick("collected", "encaissé"),
    ];
    let cells = |p: &ActivityPoint| [p.chased, p.promised, p.collected];
    let series = bars(&names, &[BLUE, ORANGE, GREEN], points, |p, k| {
        to_f64(cells(p)[k])
    });
    let categories: Vec<String> = points.iter().map(|p| p.from.to_string()).collect();
    let mut columns = vec![
        lang.pick("from", "du").to_string(),
        lang.pick("until", "au").to_string(),
    ];
    columns.extend(names.iter().map(|n| n.to_string()));
    let rows = points
        .iter()
        .map(|p| {
            let mut row = vec![p.from.to_string(), p.until.to_string()];
            row.extend(cells(p).iter().map(|v| lang.money(*v)));
            row
        })
        .collect();
    let sum = |k: usize| points.iter().map(|p| cells(p)[k]).sum::<Decimal>();
    let summary = format!(
        "{title}: {} {}; {} {} {currency}, {} {} {currency}, {} {} {currency}.",
        points.len(),
        lang.pick("periods", "périodes"),
        names[0],
        lang.money(sum(0)),
        names[1],
        lang.money(sum(1)),
        names[2],
        lang.money(sum(2)),
    );
    let svg = bar_chart(&title, &categories, &series, false, currency)?;
    Ok(Chart::new(&svg, title, &summary, columns, rows, lang))
}

/// The outbox by channel: sent, pending and dead messages side by side per channel.
pub fn messages_by_channel(channels: &[ChannelCount], lang: Lang) -> Result<Chart, PictureError> {
    let title = lang
        .pick("Messages by channel", "Messages par canal")
        .to_string();
    let names = [
        lang.pick("sent", "envoyés"),
        lang.pick("pending", "en attente"),
        lang.pick("dead", "en échec"),
    ];
    let cells = |c: &ChannelCount| [c.sent, c.pending, c.dead];
    let series = bars(&names, &[GREEN, SKY, RED], channels, |c, k| {
        cells(c)[k] as f64
    });
    let categories: Vec<String> = channels.iter().map(|c| c.channel.clone()).collect();
    let mut columns = vec![lang.pick("channel", "canal").to_string()];
    columns.extend(names.iter().map(|n| n.to_string()));
    let rows = channels
        .iter()
        .map(|c| {
            let mut row = vec![c.channel.clone()];
            row.extend(cells(c).iter().map(|n| lang.count(*n)));
            row
        })
        .collect();
    let summary = format!(
        "{title}: {}.",
        channels
            .iter()
            .map(|c| format!(
                "{} {} {}, {} {}, {} {}",
                c.channel,
                lang.count(c.sent),
                names[0],
                lang.count(c.pending),
                names[1],
                lang.count(c.dead),
                names[2]
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let svg = bar_chart(
        &title,
        &categories,
        &series,
        false,
        lang.pick("messages", "messages"),
    )?;
    Ok(Chart::new(&svg, title, &summary, columns, rows, lang))
}

/// Cases in error over time: one bar per date.
pub fn cases_in_error(points: &[ErrorPoint], lang: Lang) -> Result<Chart, PictureError> {
    let title = lang
        .pick("Cases in error", "Dossiers en erreur")
        .to_string();
    let name = lang.pick("cases in error", "dossiers en erreur");
    let series = bars(&[name], &[RED], points, |p, _| p.cases as f64);
    let categories: Vec<String> = points.iter().map(|p| p.date.to_string()).collect();
    let rows = points
        .iter()
        .map(|p| vec![p.date.to_string(), lang.count(p.cases)])
        .collect();
    let summary = match points.last() {
        Some(last) => format!(
            "{title}: {} {}; {} {} {}.",
            points.len(),
            lang.pick("dates", "dates"),
            lang.count(last.cases),
            lang.pick("on", "au"),
            last.date
        ),
        None => format!("{title}: {}.", lang.pick("no data", "aucune donnée")),
    };
    let svg = bar_chart(
        &title,
        &categories,
        &series,
        false,
        lang.pick("cases", "dossiers"),
    )?;
    let columns = vec![lang.pick("date", "date").to_string(), name.to_string()];
    Ok(Chart::new(&svg, title, &summary, columns, rows, lang))
}

/// Bars over categories: stacked (one bar per category, a segment per series) or grouped (a
/// bar per series side by side). Category `i` spans `[i, i + 1)` on the x axis; its label is
/// written under the axis at its middle. Every value gets its rectangle, zero ones too, so a
/// chart of `n` categories and `k` series always holds `n × k` bars.
fn bar_chart(
    title: &str,
    categories: &[String],
    series: &[Bars],
    stacked: bool,
    y_desc: &str,
) -> Result<String, PictureError> {
    let n = categories.len();
    let top = if stacked {
        (0..n)
            .map(|i| series.iter().map(|s| s.values[i].max(0.0)).sum::<f64>())
            .fold(0.0, f64::max)
    } else {
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max)
    };
    let top = headroom(top, series.len());
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .caption(title, ("sans-serif", 18))
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..n.max(1) as f64, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .light_line_style(WHITE)
            .y_desc(y_desc)
            .y_label_formatter(&|v| axis_number(*v))
            .draw()
            .map_err(err)?;
        let k = series.len().max(1) as f64;
        let mut base = vec![0.0; n];
        for (j, s) in series.iter().enumerate() {
            let color = s.color;
            let bars: Vec<Rectangle<(f64, f64)>> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let v = v.max(0.0);
                    let x = i as f64;
                    let (x0, x1, y0) = if stacked {
                        (x + 0.2, x + 0.8, base[i])
                    } else {
                        let w = 0.8 / k;
                        (x + 0.1 + w * j as f64, x + 0.1 + w * (j as f64 + 1.0), 0.0)
                    };
                    if stacked {
                        base[i] += v;
                    }
                    Rectangle::new([(x0, y0), (x1, y0 + v)], color.filled())
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(err)?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        let label_at = |i: usize| chart.backend_coord(&(i as f64 + 0.5, 0.0));
        category_labels(&root, categories, label_at)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// Writes each category's label under the x axis, centred on its slot (`at` gives the pixel
/// of the slot's middle on the axis). With many categories only every `step`-th is written,
/// so labels never overlap; the table lists them all.
fn category_labels(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    categories: &[String],
    at: impl Fn(usize) -> (i32, i32),
) -> Result<(), PictureError> {
    let style = TextStyle::from(("sans-serif", 12).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let width = if categories.len() > 1 {
        (at(1).0 - at(0).0).max(1)
    } else {
        i32::MAX
    };
    let widest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0) as i32
        * 7
        + 8;
    let step = (widest / width + 1).max(1) as usize;
    for (i, label) in categories.iter().enumerate().step_by(step) {
        let (x, y) = at(i);
        root.draw(&Text::new(label.as_str(), (x, y + 8), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// An axis tick: `950`, `12.5k`, `3.2M`.
fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}
