//! Message templates of a scenario set: finding the variant of a template for a message's
//! language (`variant`, with the set's declared languages and fallback order, `settings`), the
//! documented template context (`context`: one table for the checker and the docs), checking
//! templates (`check`: syntax, variables, missing variants, as `relance_dsl` diagnostics;
//! `names`: filters and loop-variable attributes),
//! the locale-aware filters (`filters`) and rendering (`render`).
//!
//! Templates are held in memory, keyed by file name (`reminder-1.fr.txt`, and the settings file
//! `templates.toml`), as the daemon's bundle keeps them, so an editor can check unsaved
//! buffers. This crate must not read the clock, send anything, nor know the daemon's store or
//! channels: it turns template texts and a context into text and diagnostics. relance-core
//! must not depend on it (it brings minijinja and ICU).
//!
//! **Why ICU for the filters.** Numbers and dates are formatted with ICU4X (`icu_decimal`,
//! `icu_datetime`, CLDR data compiled in): the Unicode project's maintained library, correct
//! for every language a set may declare, with no data file to ship. The lighter choices were
//! rejected: `num-format` formats integers only (no decimals, no dates), and chrono's
//! `unstable-locales` gives month names from glibc tables but neither grouping nor a short
//! date form, and is unstable by name. Two things are not in ICU4X's stable API and are done
//! here, documented in `filters`: the place of the currency symbol (ICU4X's currency
//! formatter is still in `icu_experimental`), and the French ordinal `1er` for the first of a
//! month (a typographic rule, not CLDR data).

pub mod check;
pub mod context;
pub mod coverage;
pub mod filters;
pub mod names;
pub mod render;
pub mod settings;
pub mod variant;

pub use check::{
    Checked, FileDiagnostics, TemplateCache, check_set, check_set_cached, read_dir, template_uses,
};
pub use render::{RenderError, render};
pub use settings::{SETTINGS_FILE, Settings};
pub use variant::{Missing, Variant, find};
