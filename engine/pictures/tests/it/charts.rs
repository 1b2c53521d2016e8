//! The charts: each is well-formed, accessible SVG drawn by plotters, with one bar per value
//! (zero ones too), its labels and legend written, and a table holding the exact decimals.

use chrono::NaiveDate;
use relance_pictures::Lang;
use relance_pictures::charts::{self, Chart};
use relance_pictures::series::{
    ActivityPoint, AgedPoint, Buckets, ChannelCount, ErrorPoint, RatioPoint,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::svg::{aria_label, assert_accessible, elements, filled, texts};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn aged() -> Vec<AgedPoint> {
    let b = |nd: Decimal, a: Decimal, b: Decimal, c: Decimal, o: Decimal, disp: Decimal| Buckets {
        not_due: nd,
        days_1_30: a,
        days_31_60: b,
        days_61_90: c,
        over_90: o,
        disputed: disp,
        total: nd + a + b + c + o + disp,
    };
    vec![
        AgedPoint {
            date: d("2026-09-30"),
            buckets: b(
                dec!(12000),
                dec!(4000.10),
                dec!(1500),
                dec!(0),
                dec!(800),
                dec!(0),
            ),
        },
        AgedPoint {
            date: d("2026-10-31"),
            buckets: b(
                dec!(10500),
                dec!(5200),
                dec!(2100.55),
                dec!(900),
                dec!(800),
                dec!(300),
            ),
        },
        AgedPoint {
            date: d("2026-11-30"),
            buckets: b(
                dec!(9800),
                dec!(3100),
                dec!(2500),
                dec!(1700.25),
                dec!(1200),
                dec!(300),
            ),
        },
    ]
}

/// Each chart, its series' colours, its number of categories, and words it must show.
#[test]
fn bar_charts_draw_one_bar_per_value_and_a_legend_swatch_per_series() {
    let activity = [
        ActivityPoint {
            from: d("2026-10-01"),
            until: d("2026-10-31"),
            chased: dec!(25000),
            promised: dec!(8000),
            collected: dec!(15000.5),
        },
        ActivityPoint {
            from: d("2026-11-01"),
            until: d("2026-11-30"),
            chased: dec!(21000),
            promised: dec!(0),
            collected: dec!(17250),
        },
    ];
    let channels = [
        ChannelCount {
            channel: "email".into(),
            sent: 120,
            pending: 4,
            dead: 2,
        },
        ChannelCount {
            channel: "letter".into(),
            sent: 12,
            pending: 0,
            dead: 1,
        },
        ChannelCount {
            channel: "sms".into(),
            sent: 30,
            pending: 1,
            dead: 0,
        },
        ChannelCount {
            channel: "webhook".into(),
            sent: 5,
            pending: 0,
            dead: 0,
        },
    ];
    let errors = [
        ErrorPoint {
            date: d("2026-11-28"),
            cases: 0,
        },
        ErrorPoint {
            date: d("2026-11-29"),
            cases: 3,
        },
        ErrorPoint {
            date: d("2026-11-30"),
            cases: 1,
        },
    ];
    type Case = (
        &'static str,
        Chart,
        Vec<&'static str>,
        usize,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "aged-en",
            charts::aged_balance(&aged(), "EUR", Lang::En).unwrap(),
            vec![
                "#009E73", "#F0E442", "#E69F00", "#D55E00", "#961E1E", "#CC79A7",
            ],
            3,
            vec!["not due", "over 90 days", "disputed", "2026-10-31"],
        ),
        (
            "aged-fr",
            charts::aged_balance(&aged(), "EUR", Lang::Fr).unwrap(),
            vec![
                "#009E73", "#F0E442", "#E69F00", "#D55E00", "#961E1E", "#CC79A7",
            ],
            3,
            vec![
                "non échu",
                "plus de 90 jours",
                "en litige",
                "Balance âgée par tranche (EUR)",
            ],
        ),
        (
            "activity",
            charts::activity(&activity, "EUR", Lang::En).unwrap(),
            vec!["#0072B2", "#E69F00", "#009E73"],
            2,
            vec!["chased", "promised", "collected", "2026-11-01"],
        ),
        (
            "channels",
            charts::messages_by_channel(&channels, Lang::Fr).unwrap(),
            vec!["#009E73", "#56B4E9", "#D55E00"],
            4,
            vec![
                "envoyés",
                "en attente",
                "en échec",
                "webhook",
                "Messages par canal",
            ],
        ),
        (
            "errors",
            charts::cases_in_error(&errors, Lang::En).unwrap(),
            vec!["#D55E00"],
            3,
            vec!["cases in error", "2026-11-29"],
        ),
    ];
    for (name, chart, colors, categories, words) in cases {
        crate::keep(&format!("chart-{name}"), &chart.svg);
        assert_accessible(&chart.svg, &chart.table.caption);
        for color in &colors {
            // One bar per category, and the legend's swatch.
            assert_eq!(
                filled(&chart.svg, "rect", color),
                categories + 1,
                "{name}: bars of {color}"
            );
        }
        let written = texts(&chart.svg);
        for word in words {
            assert!(
                written.iter().any(|t| t.contains(word)),
                "{name}: `{word}` not written in {written:?}"
            );
        }
        assert_eq!(
            chart.table.rows.len(),
            categories,
            "{name}: a row per category"
        );
        for row in &chart.table.rows {
            assert_eq!(row.len(), chart.table.columns.len(), "{name}: {row:?}");
        }
    }
}

/// The table keeps the decimals exactly as given (no float round trip), per language.
#[test]
fn tables_hold_exact_amounts() {
    let en = charts::aged_balance(&aged(), "EUR", Lang::En).unwrap();
    assert_eq!(
        en.table.rows[1],
        [
            "2026-10-31",
            "10,500.00",
            "5,200.00",
            "2,100.55",
            "900.00",
            "800.00",
            "300.00",
            "19,800.55"
        ]
    );
    let fr = charts::aged_balance(&aged(), "EUR", Lang::Fr).unwrap();
    assert_eq!(fr.table.rows[0][2], "4\u{202f}000,10");
    assert_eq!(fr.table.columns[0], "date");
    assert_eq!(fr.table.columns[7], "total");
    // A cent in a hundred million survives: a float sum would not print this.
    let big = [AgedPoint {
        date: d("2026-11-30"),
        buckets: Buckets {
            not_due: dec!(99999999.99),
            days_1_30: dec!(0.01),
            total: dec!(100000000.00),
            ..Buckets::default()
        },
    }];
    let c = charts::aged_balance(&big, "EUR", Lang::En).unwrap();
    assert_eq!(c.table.rows[0][1], "99,999,999.99");
    assert_eq!(c.table.rows[0][7], "100,000,000.00");
}

#[test]
fn dso_and_cei_draw_a_point_per_figure_and_skip_missing_ones() {
    let points = [
        RatioPoint {
            date: d("2026-08-31"),
            dso: Some(dec!(52.3)),
            cei: Some(dec!(81.0)),
        },
        RatioPoint {
            date: d("2026-09-30"),
            dso: Some(dec!(48.9)),
            cei: None,
        },
        RatioPoint {
            date: d("2026-10-31"),
            dso: None,
            cei: Some(dec!(77.4)),
        },
        RatioPoint {
            date: d("2026-11-30"),
            dso: Some(dec!(45.0)),
            cei: Some(dec!(85.25)),
        },
    ];
    for lang in [Lang::En, Lang::Fr] {
        let chart = charts::dso_cei(&points, lang).unwrap();
        crate::keep(&format!("chart-dso-cei-{}", lang.code()), &chart.svg);
        assert_accessible(&chart.svg, &chart.table.caption);
        let els = elements(&chart.svg);
        let circles = |color: &str| filled(&chart.svg, "circle", color);
        assert_eq!(circles("#0072B2"), 3, "three DSO figures");
        assert_eq!(circles("#E69F00"), 3, "three CEI figures");
        let lines = els.iter().filter(|e| e.name == "polyline").count();
        assert!(lines >= 2, "a line per series (and the legend's): {lines}");
        let missing = &chart.table.rows[1][2];
        assert_eq!(missing, "—");
    }
    let en = charts::dso_cei(&points, Lang::En).unwrap();
    assert_eq!(en.table.rows[3], ["2026-11-30", "45.0", "85.3"]);
    assert!(texts(&en.svg).iter().any(|t| t == "DSO (days)"));
}

#[test]
fn an_empty_series_still_draws_an_accessible_chart() {
    let chart = charts::aged_balance(&[], "EUR", Lang::En).unwrap();
    assert_accessible(&chart.svg, &chart.table.caption);
    assert!(chart.table.rows.is_empty());
    let label = aria_label(&chart.svg);
    assert!(label.contains("no data"), "{label}");
}
