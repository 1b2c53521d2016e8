//! Test-block checks: the scenario a test uses, its customers and invoices (known fields of
//! the right type, required fields, no duplicates), its events and expected lines naming only
//! entities the test defines (`expect error INVOICE` included).
//!
//! It must not run the test: that is the engine's test runner.

use std::collections::BTreeMap;

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::schema::{self, Type};
use crate::suggest::closest;
use crate::syntax::ast::*;

impl Checker<'_> {
    pub(super) fn test(&mut self, t: &Test) {
        let mut customers: BTreeMap<&str, Span> = BTreeMap::new();
        let mut invoices: BTreeMap<&str, Span> = BTreeMap::new();
        let mut has_use = false;
        let mut has_expect = false;
        for m in &t.members {
            match &m.kind {
                TestMemberKind::Customer { id, .. } => {
                    self.entity_def(id, "customer", &mut customers)
                }
                TestMemberKind::Invoice { id, .. } => self.entity_def(id, "invoice", &mut invoices),
                TestMemberKind::Use(name) => {
                    has_use = true;
                    self.scenario_ref(name);
                }
                TestMemberKind::Expect(_) | TestMemberKind::ExpectError { .. } => has_expect = true,
                _ => {}
            }
        }
        for m in &t.members {
            match &m.kind {
                TestMemberKind::Customer { fields, .. } => {
                    self.fields(
                        fields,
                        schema::test_customer_fields(),
                        "customer",
                        &customers,
                    );
                }
                TestMemberKind::Invoice { id, fields } => {
                    self.fields(fields, schema::TEST_INVOICE_FIELDS, "invoice", &customers);
                    self.required_invoice_fields(id, fields, m.span);
                }
                TestMemberKind::Event { event, .. } => {
                    self.test_event(event, &customers, &invoices)
                }
                TestMemberKind::Expect(Expect::Lines(lines)) => {
                    for line in lines {
                        self.action(&line.action, true);
                        for inv in &line.invoices {
                            self.entity_ref(inv, "invoice", &invoices);
                        }
                    }
                }
                TestMemberKind::ExpectError { invoice, .. } => {
                    self.entity_ref(invoice, "invoice", &invoices)
                }
                _ => {}
            }
        }
        self.dunning_standing(t);
        if !has_use && !self.index.has_default_choice() {
            self.push(
                Diagnostic::new(
                    Code::UnknownScenario,
                    t.name.span,
                    "this test does not say which scenario runs",
                )
                .with_label("the set has no single scenario and no `default` policy")
                .with_help("add `use SCENARIO` to the test"),
            );
        }
        if !has_expect {
            self.push(
                Diagnostic::new(
                    Code::TestWithoutExpectation,
                    t.name.span,
                    "this test expects nothing",
                )
                .with_label("it only checks that the case runs")
                .with_help("add `expect { … }` or `expect snapshot`"),
            );
        }
    }

    fn entity_def<'t>(&mut self, id: &'t Entity, what: &str, seen: &mut BTreeMap<&'t str, Span>) {
        if let Some(first) = seen.insert(&id.id, id.span) {
            self.push(
                Diagnostic::new(
                    Code::DuplicateTestEntity,
                    id.span,
                    format!("{what} `{}` is defined twice in this test", id.id),
                )
                .with_label("second definition")
                .with_related(first, "first defined here"),
            );
        }
    }

    fn entity_ref(&mut self, id: &Entity, what: &str, known: &BTreeMap<&str, Span>) {
        if known.contains_key(id.id.as_str()) {
            return;
        }
        let help = closest(&id.id, known.keys().copied());
        self.push(
            Diagnostic::new(
                Code::UnknownTestEntity,
                id.span,
                format!("unknown {what} `{}`", id.id),
            )
            .with_label(format!("this test defines no {what} of this id"))
            .with_did_you_mean(help),
        );
    }

    fn fields(
        &mut self,
        fields: &[Field],
        allowed: &[(&str, Type)],
        what: &str,
        customers: &BTreeMap<&str, Span>,
    ) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for f in fields {
            if let Some(first) = seen.insert(&f.name.name, f.span) {
                self.push(
                    Diagnostic::new(
                        Code::InvalidTestField,
                        f.name.span,
                        format!("field `{}` is given twice", f.name.name),
                    )
                    .with_related(first, "first given here"),
                );
            }
            let Some((_, ty)) = allowed.iter().find(|(n, _)| *n == f.name.name) else {
                let help = closest(&f.name.name, allowed.iter().map(|(n, _)| *n));
                self.push(
                    Diagnostic::new(
                        Code::InvalidTestField,
                        f.name.span,
                        format!("a test {what} has no field `{}`", f.name.name),
                    )
                    .with_label(format!(
                        "fields are {}",
                        allowed
                            .iter()
                            .map(|(n, _)| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .with_did_you_mean(help),
                );
                continue;
            };
            self.field_value(f, ty, customers);
        }
    }

    fn field_value(&mut self, f: &Field, ty: &Type, customers: &BTreeMap<&str, Span>) {
        // A bare word is an id (`customer ACME`) or a short text (`segment b2b`).
        let got = match &f.value.kind {
            ExprKind::Path(p) if p.len() == 1 => {
                if f.name.name == "customer" {
                    let id = Entity {
                        id: p[0].name.clone(),
                        quoted: false,
                        span: p[0].span,
                    };
                    self.entity_ref(&id, "customer", customers);
                    return;
                }
                Type::Text
            }
            ExprKind::Str(s) if f.name.name == "customer" => {
                let id = Entity {
                    id: s.clone(),
                    quoted: true,
                    span: f.value.span,
                };
                self.entity_ref(&id, "customer", customers);
                return;
            }
            _ => self.type_of(&f.value).ty,
        };
        if &got != ty {
            self.push(
                Diagnostic::new(
                    Code::InvalidTestField,
                    f.value.span,
                    format!("`{}` needs {}", f.name.name, ty.describe()),
                )
                .with_label(format!("this is {}", got.describe())),
            );
            return;
        }
        if f.name.name == "segment" {
            let text = match &f.value.kind {
                ExprKind::Str(s) => s.clone(),
                ExprKind::Path(p) => p[0].name.clone(),
                _ => return,
            };
            if !["b2b", "b2c", "public"].contains(&text.as_str()) {
                self.push(
                    Diagnostic::new(
                        Code::InvalidTestField,
                        f.value.span,
                        format!("unknown segment `{text}`"),
                    )
                    .with_label("segments are `b2b`, `b2c` and `public`"),
                );
            }
        }
    }

    fn required_invoice_fields(&mut self, id: &Entity, fields: &[Field], span: Span) {
        let missing: Vec<&str> = ["customer", "amount", "issued", "due"]
            .into_iter()
            .filter(|r| !fields.iter().any(|f| f.name.name == *r))
            .collect();
        if !missing.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::MissingTestField,
                    span,
                    format!("invoice `{}` lacks {}", id.id, missing.join(", ")),
                )
                .with_label("an invoice needs customer, amount, issued and due"),
            );
        }
    }

    fn test_event(
        &mut self,
        ev: &TestEvent,
        customers: &BTreeMap<&str, Span>,
        invoices: &BTreeMap<&str, Span>,
    ) {
        match ev {
            TestEvent::Payment { invoice, .. }
            | TestEvent::Dispute { invoice, .. }
            | TestEvent::Resolve { invoice }
            | TestEvent::Promise { invoice, .. }
            | TestEvent::CreditNote { invoice, .. }
            | TestEvent::WriteOff { invoice }
            | TestEvent::WriteOffReversed { invoice, .. }
            | TestEvent::PaymentFailed { invoice, .. }
            | TestEvent::Outcome { invoice, .. } => self.entity_ref(invoice, "invoice", invoices),
            TestEvent::PaymentReversed {
                invoice, reason, ..
            } => {
                self.entity_ref(invoice, "invoice", invoices);
                let known = schema::PAYMENT_REVERSED_REASONS;
                if let Some(r) = reason
                    .as_ref()
                    .filter(|r| !known.contains(&r.value.as_str()))
                {
                    let list = known
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let d = Diagnostic::new(
                        Code::InvalidTestField,
                        r.span,
                        format!(
                            "a payment reversal's reason is never {}",
                            crate::fmt::quoted(&r.value)
                        ),
                    )
                    .with_label(format!("the reason is one of {list}"));
                    let help = closest(&r.value, known.iter().copied());
                    self.push(match help {
                        Some(_) => d.with_did_you_mean_as(help, crate::fmt::quoted),
                        None => d.with_help(format!("write one of {list}")),
                    });
                }
            }
            TestEvent::Moved {
                invoice, scenario, ..
            } => {
                self.entity_ref(invoice, "invoice", invoices);
                self.scenario_ref(scenario);
            }
            TestEvent::Tag { customer, .. } => self.entity_ref(customer, "customer", customers),
            TestEvent::Risk { customer, score } => {
                self.entity_ref(customer, "customer", customers);
                if !(0..=100).contains(score) {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidTestField,
                            customer.span,
                            format!("risk score {score} is outside 0..100"),
                        )
                        .with_label("risk scores go from 0 to 100"),
                    );
                }
            }
            TestEvent::Bounce { customer, role } => {
                self.entity_ref(customer, "customer", customers);
                self.role_pub(role);
            }
        }
    }
}
