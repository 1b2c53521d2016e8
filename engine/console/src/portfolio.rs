//! Portfolio (`/console/portfolio`): the charts of `relance_pictures::charts` drawn from the
//! daemon's typed series (`relance_daemon::portfolio::series`: the aged balance by bucket at
//! each month end, DSO and CEI, amounts chased, promised and collected, messages by channel,
//! cases in error), each chart's SVG inline in the page (no script: the CSP holds) followed by
//! the table of what it draws.
//!
//! Cost: the series fold the counters the engine keeps up to date with every commit (the
//! daemon's `aggregates.rs`): bounded by the number of distinct dates, not of invoices. This
//! module must not compute a figure itself.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use relance_daemon::api::auth::Family;
use relance_daemon::portfolio::{self, PortfolioOptions, PortfolioSeries};
use relance_pictures::{Chart, Lang, charts};
use serde::Serialize;

use super::web::{Console, Fail, Signed, blocking};

#[derive(Serialize)]
struct View {
    id: &'static str,
    svg: String,
    caption: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn view(id: &'static str, c: Chart) -> View {
    View {
        id,
        svg: c.svg,
        caption: c.table.caption,
        columns: c.table.columns,
        rows: c.table.rows,
    }
}

/// Every chart of the page, in order.
fn charts_of(s: &PortfolioSeries, lang: Lang) -> Result<Vec<View>, Fail> {
    let draw = |r: Result<Chart, relance_pictures::PictureError>| {
        r.map_err(|e| Fail::Internal(e.to_string()))
    };
    Ok(vec![
        view(
            "aged",
            draw(charts::aged_balance(&s.aged, &s.currency, lang))?,
        ),
        view("dso-cei", draw(charts::dso_cei(&s.ratios, lang))?),
        view(
            "activity",
            draw(charts::activity(&s.activity, &s.currency, lang))?,
        ),
        view(
            "channels",
            draw(charts::messages_by_channel(&s.channels, lang))?,
        ),
        view("errors", draw(charts::cases_in_error(&s.errors, lang))?),
    ])
}

/// `GET /console/portfolio`.
pub async fn page(State(c): State<Arc<Console>>, s: Signed) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let lang = Lang::from_tag(s.lang.code());
    let series = blocking(move || portfolio::series(&engine, &PortfolioOptions::default())).await;
    match series.and_then(|series| charts_of(&series, lang).map(|v| (series.at, v))) {
        Ok((at, charts)) => c.page(
            s.lang,
            Some(&s.session),
            "portfolio.html",
            context! { charts, at => at.to_string() },
        ),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}
