//! Test invoices that start mid-way (`dunning_step`, `dunning_date`, `dunning_attempts`):
//! the three fields go together (E0119) and the step must be one of the scenario the test
//! runs, when the test names it or the set has a single scenario (E0118).
//!
//! It must not check the fields' types (`test_blocks` does, from
//! `schema::TEST_INVOICE_FIELDS`) nor decide anything about the run: the runtime restores the
//! case (`relance_core::runtime::standing`).

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::suggest::closest;
use crate::syntax::ast::*;

impl Checker<'_> {
    /// E0118 and E0119 for every invoice of test `t`.
    pub(super) fn dunning_standing(&mut self, t: &Test) {
        let used = t.members.iter().find_map(|m| match &m.kind {
            TestMemberKind::Use(name) => Some(name.name.clone()),
            _ => None,
        });
        let steps = self.steps_of(used.as_deref());
        for m in &t.members {
            let TestMemberKind::Invoice { id, fields } = &m.kind else {
                continue;
            };
            let field = |name: &str| fields.iter().find(|f| f.name.name == name);
            let step = field("dunning_step");
            let date = field("dunning_date");
            let attempts = field("dunning_attempts");
            let partial =
                step.is_some() != date.is_some() || (attempts.is_some() && step.is_none());
            if partial {
                {
                    let at = step.or(date).or(attempts).map_or(m.span, |f| f.span);
                    self.push(
                        Diagnostic::new(
                            Code::IncompleteDunningStanding,
                            at,
                            format!(
                                "invoice `{}` says where it stands only in part",
                                id.id
                            ),
                        )
                        .with_label("`dunning_step` and `dunning_date` go together")
                        .with_help(
                            "give the last step reached and its date (`dunning_attempts` is optional)",
                        ),
                    );
                }
            }
            if let Some(f) = field("catch_up")
                && let ExprKind::Str(text) = &f.value.kind
                && let Err(e) = text.parse::<crate::ir::CatchUp>()
            {
                self.push(
                    Diagnostic::new(Code::InvalidTestField, f.value.span, e)
                        .with_label("`latest`, or `gradual` and an interval: `\"gradual 7 days\"`"),
                );
            }
            if let Some(f) = field("installments")
                && let ExprKind::Str(text) = &f.value.kind
            {
                self.installments(f, text, field("due"), field("amount"));
            }
            let (Some(step), Some(steps)) = (step, &steps) else {
                continue;
            };
            let name = match &step.value.kind {
                ExprKind::Str(s) => s.clone(),
                ExprKind::Path(p) if p.len() == 1 => p[0].name.clone(),
                _ => continue,
            };
            if !steps.contains(&name) {
                let help = closest(&name, steps.iter().map(String::as_str));
                self.push(
                    Diagnostic::new(
                        Code::UnknownDunningStep,
                        step.value.span,
                        format!("`{name}` is not a step of the scenario this test runs"),
                    )
                    .with_label("the case would not know where it stands")
                    .with_did_you_mean(help),
                );
            }
        }
    }

    /// The step names of the scenario a test runs: the one it `use`s, else the set's only
    /// scenario; `None` when the policy decides (then the runtime reports an unknown step).
    fn steps_of(&self, used: Option<&str>) -> Option<Vec<String>> {
        let name = match used {
            Some(n) => n.to_string(),
            None if self.index.scenarios.len() == 1 && self.index.broken_scenarios.is_empty() => {
                self.index.scenarios.keys().next()?.clone()
            }
            None => return None,
        };
        let (file, _) = *self.index.scenarios.get(&name)?.first()?;
        self.files[file]
            .parsed
            .file
            .items
            .iter()
            .find_map(|item| match item {
                Item::Scenario(s) if s.name.name == name => {
                    Some(s.steps().iter().map(|st| st.name.name.clone()).collect())
                }
                _ => None,
            })
    }

    /// An invoice's `installments` text: it reads (`installments::Plan`), its amounts make the
    /// invoice's `amount`, and its last date is the invoice's `due` (as ERPNext and Odoo set
    /// an invoice's due date to its payment schedule's last).
    fn installments(&mut self, f: &Field, text: &str, due: Option<&Field>, amount: Option<&Field>) {
        let plan = match text.parse::<crate::installments::Plan>() {
            Ok(plan) => plan,
            Err(e) => {
                self.push(
                    Diagnostic::new(Code::InvalidTestField, f.value.span, e)
                        .with_label("due dates and shares: `\"2026-01-31 30%; 2026-03-31 rest\"`"),
                );
                return;
            }
        };
        if let Some(ExprKind::Money(m)) = amount.map(|a| &a.value.kind)
            && let Err(e) = plan.resolve(m.amount)
        {
            self.push(
                Diagnostic::new(Code::InvalidTestField, f.value.span, e)
                    .with_label("the installments must make the invoice's amount"),
            );
        }
        if let Some(ExprKind::Date(d)) = due.map(|d| &d.value.kind)
            && *d != plan.last_due()
        {
            self.push(
                Diagnostic::new(
                    Code::InvalidTestField,
                    f.value.span,
                    format!(
                        "the last installment is due {}, the invoice on {d}",
                        plan.last_due()
                    ),
                )
                .with_label("an invoice's `due` is its last installment's date"),
            );
        }
    }
}
