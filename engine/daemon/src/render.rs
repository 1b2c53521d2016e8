//! Rendering a sealed message: resolving the customer's contact roles to addresses and
//! rendering the set's template in the customer's language, or the set's declared fallback,
//! through `relance_templates` (variables documented in `stdlib-scenarios/templates/README.md`
//! and `relance_templates::context`; a letter's `address` and its block come from `postal`),
//! or building the JSON payload of a webhook.
//!
//! Rendering happens once, when the message is sealed, and is stored with it: every attempt
//! sends the same text with the same Message-ID (a letter keeps its text apart too, for the
//! PDF the letter channel lays out). A letter whose recipient has no postal address is an
//! error, so a dead letter. This module must not send anything.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::json;

use relance_dsl::ir::{Action, Escalation};

use super::config::Company;
use super::model::{LetterText, Message, Rendered};
use super::postal;
use relance_core::domain::{Contact, Customer};
use relance_core::interest::{RECOVERY_INDEMNITY_EUR, RateTable};

/// The Message-ID of a message: its idempotency key made safe for an RFC 5322 `id-left`
/// (letters, digits and `-` `_` kept, `/` as `.`, anything else as `=XX`), at `domain`.
pub fn message_id(key: &str, domain: &str) -> String {
    let mut left = String::with_capacity(key.len() + 8);
    left.push_str("relance.");
    for b in key.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => left.push(b as char),
            b'/' => left.push('.'),
            other => left.push_str(&format!("={other:02X}")),
        }
    }
    while left.contains("..") {
        left = left.replace("..", ".=2E");
    }
    format!("<{}@{domain}>", left.trim_end_matches('.'))
}

/// The `to` roles with a fallback: the role itself, else `main`, else `accounting`.
fn contact<'c>(
    customer: &'c Customer,
    role: &str,
    has: impl Fn(&Contact) -> bool,
) -> Option<&'c Contact> {
    [role, "main", "accounting"]
        .into_iter()
        .find_map(|r| customer.contacts.get(r).filter(|c| has(c)))
}

/// The template variables of a message.
pub fn variables(
    m: &Message,
    customer: &Customer,
    company: &Company,
    rates: &RateTable,
) -> serde_json::Value {
    let today: NaiveDate = m.date;
    let invoices: Vec<serde_json::Value> = m
        .items
        .iter()
        .map(|i| {
            json!({
                "number": i.invoice,
                "issued": i.issued,
                "due": i.due,
                "days_late": (today - i.due).num_days(),
                "amount": i.amount.to_string(),
                "outstanding": i.outstanding.to_string(),
                "charges": i.charges.to_string(),
                "amount_due": (i.due_now.unwrap_or(i.outstanding) + i.charges).to_string(),
                "currency": i.currency,
                "level": i.step,
                "installments": i.installments,
                "late_interest_rate": item_rate(i, customer, rates, today)
                    .map(|(r, _)| r.to_string())
                    .unwrap_or_default(),
            })
        })
        .collect();
    let total: Decimal = m.items.iter().map(|i| i.outstanding).sum();
    let due_now: Decimal = m
        .items
        .iter()
        .map(|i| i.due_now.unwrap_or(i.outstanding))
        .sum();
    let charges: Decimal = m.items.iter().map(|i| i.charges).sum();
    let currency = m
        .items
        .first()
        .map(|i| i.currency.clone())
        .unwrap_or_else(|| "EUR".into());
    // The rate of the message's first invoice (a grouped message's invoices share their
    // customer; an invoice with a rate of its own shows it in `invoices[i]`).
    let first_rate = m
        .items
        .first()
        .and_then(|i| item_rate(i, customer, rates, today))
        .or_else(|| fallback_rate(customer, rates, today));
    let deadline = today
        .checked_add_days(Days::new(u64::from(company.notice_days)))
        .unwrap_or(today);
    json!({
        "customer": {"id": customer.id, "name": customer.name, "language": customer.language},
        "company": company,
        "invoices": invoices,
        "total_outstanding": total.to_string(),
        "total_charges": charges.to_string(),
        "total_due": (due_now + charges).to_string(),
        "currency": currency,
        "today": today,
        "step": m.items.first().map(|i| i.step.clone()).unwrap_or_default(),
        "penalty_rate": rates.rate_on(today).map(|r| r.to_string()).unwrap_or_default(),
        "late_interest_rate": first_rate.map(|(r, _)| r.to_string()).unwrap_or_default(),
        "late_interest_contractual": first_rate.is_some_and(|(_, contractual)| contractual),
        "indemnity": RECOVERY_INDEMNITY_EUR.to_string(),
        "deadline": deadline,
        "address": postal::variables(None),
    })
}

/// The late-interest rate of an item and whether it is contractual: the one the engine kept
/// with it (`Item::late_interest_rate`, the charge's own choice), else
/// [`fallback_rate`] for items sealed before it was kept.
fn item_rate(
    item: &super::model::Item,
    customer: &Customer,
    rates: &RateTable,
    today: NaiveDate,
) -> Option<(Decimal, bool)> {
    match item.late_interest_rate {
        Some(rate) => Some((rate, item.late_interest_contractual)),
        None => fallback_rate(customer, rates, today),
    }
}

/// The customer's contractual rate, else ECB + 10 points of `today`'s half-year.
fn fallback_rate(
    customer: &Customer,
    rates: &RateTable,
    today: NaiveDate,
) -> Option<(Decimal, bool)> {
    match customer.late_interest_rate {
        Some(rate) => Some((rate, true)),
        None => rates.rate_on(today).map(|r| (r, false)),
    }
}

/// Renders a variant (through `relance_templates`: its filters in the variant's language, an
/// error naming the file and line) and splits off its `Subject:` line.
fn render_text(
    variant: &relance_templates::Variant<'_>,
    vars: &serde_json::Value,
) -> Result<(Option<String>, String), String> {
    let out = relance_templates::render(variant, vars).map_err(|e| e.to_string())?;
    match out.strip_prefix("Subject:") {
        Some(rest) => {
            let (subject, body) = rest.split_once('\n').unwrap_or((rest, ""));
            Ok((
                Some(subject.trim().to_string()),
                body.trim_start_matches(['\r', '\n']).to_string(),
            ))
        }
        None => Ok((None, out)),
    }
}

/// Renders a message for its channel. An error (no address, no template) dead-letters it.
pub fn render(
    m: &Message,
    customer: &Customer,
    templates: &BTreeMap<String, String>,
    company: &Company,
    rates: &RateTable,
    domain: &str,
) -> Result<Rendered, String> {
    let mut vars = variables(m, customer, company, rates);
    // A letter's recipient: the first `to` role (with the fallbacks) that has an address.
    let recipient = match &m.action {
        Action::Letter { to, .. } => to.iter().find_map(|r| {
            contact(customer, r, |c| {
                c.address.as_ref().is_some_and(|a| !a.is_empty())
            })
        }),
        _ => None,
    };
    if let Some(who) = recipient {
        vars["address"] = postal::variables(who.address.as_ref());
    }
    // The variant in the customer's language, else the set's declared fallback (none
    // without `templates/templates.toml`): a missing one names the template and language.
    let templated = |name: &str| -> Result<(Option<String>, String), String> {
        let settings = relance_templates::Settings::of(templates).map_err(|errors| {
            let first = errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            format!("templates/{}: {first}", relance_templates::SETTINGS_FILE)
        })?;
        let variant = relance_templates::find(templates, &settings, name, &customer.language)
            .map_err(|e| e.to_string())?;
        render_text(&variant, &vars)
    };
    match &m.action {
        Action::Email { template, to, cc } => {
            let mut addresses = Vec::new();
            let mut roles = Vec::new();
            for role in to {
                match contact(customer, role, |c| c.email.is_some()).and_then(|c| c.email.clone()) {
                    Some(a) if !addresses.contains(&a) => {
                        addresses.push(a);
                        roles.push(role.clone());
                    }
                    Some(_) => roles.push(role.clone()),
                    None => {}
                }
            }
            if addresses.is_empty() {
                return Err(format!(
                    "customer {} has no email address for {}",
                    customer.id,
                    to.join(", ")
                ));
            }
            let ccs: Vec<String> = cc
                .iter()
                .filter_map(|r| customer.contacts.get(r).and_then(|c| c.email.clone()))
                .filter(|a| !addresses.contains(a))
                .collect();
            let (subject, body) = templated(template)?;
            Ok(Rendered {
                to: addresses,
                cc: ccs,
                roles,
                subject: Some(subject.unwrap_or_else(|| format!("{} – {template}", company.name))),
                body,
                message_id: Some(message_id(&m.key, domain)),
                ..Rendered::default()
            })
        }
        Action::Sms { template, to } => {
            let phones: Vec<String> = to
                .iter()
                .filter_map(|r| {
                    contact(customer, r, |c| c.phone.is_some()).and_then(|c| c.phone.clone())
                })
                .collect();
            if phones.is_empty() {
                return Err(format!(
                    "customer {} has no phone number for {}",
                    customer.id,
                    to.join(", ")
                ));
            }
            let (_, body) = templated(template)?;
            let payload = json!({"key": m.key, "to": phones, "text": body, "customer": m.customer, "invoices": m.invoices()});
            Ok(Rendered {
                to: phones,
                roles: to.clone(),
                body: payload.to_string(),
                ..Rendered::default()
            })
        }
        Action::Letter {
            template,
            to,
            registered,
        } => {
            let Some(address) = recipient.and_then(|c| c.address.as_ref()) else {
                return Err(format!(
                    "customer {} has no postal address for {} (nor main, accounting)",
                    customer.id,
                    to.join(", ")
                ));
            };
            let name = recipient
                .and_then(|c| c.name.clone())
                .or_else(|| customer.name.clone())
                .unwrap_or_else(|| customer.id.clone());
            let lines = postal::block_lines(address);
            let address = lines.join("\n");
            let (subject, body) = templated(template)?;
            let letter = LetterText {
                name: name.clone(),
                address: lines,
                text: body.clone(),
                registered: *registered,
                language: customer.language.clone(),
            };
            let html = letter_html(
                &name,
                &address,
                subject.as_deref(),
                &body,
                *registered,
                m.date,
            );
            Ok(Rendered {
                to: vec![format!("{name}\n{address}")],
                roles: to.clone(),
                subject,
                body: html,
                letter: Some(letter),
                ..Rendered::default()
            })
        }
        Action::Call { who, .. } => {
            let phone = contact(customer, who, |c| c.phone.is_some()).and_then(|c| c.phone.clone());
            Ok(Rendered {
                to: phone.into_iter().collect(),
                roles: vec![who.clone()],
                body: m.text.clone(),
                ..Rendered::default()
            })
        }
        _ => {
            let payload = webhook_payload(m);
            Ok(Rendered {
                body: payload.to_string(),
                ..Rendered::default()
            })
        }
    }
}

/// The JSON posted for webhooks, escalations, alerts, charges, tags, blocks.
pub fn webhook_payload(m: &Message) -> serde_json::Value {
    let target = match &m.action {
        Action::Escalate {
            target: Escalation::Agency(a),
        } => Some(format!("agency {}", a.as_deref().unwrap_or("default"))),
        Action::Escalate {
            target: Escalation::Litigation,
        } => Some("litigation".into()),
        Action::Webhook { name } => Some(name.clone()),
        _ => None,
    };
    json!({
        "key": m.key,
        "date": m.date,
        "event": m.channel,
        "target": target,
        "action": m.text,
        "customer": m.customer,
        "scenario": m.scenario,
        "invoices": m.items.iter().map(|i| json!({
            "number": i.invoice, "step": i.step, "due": i.due, "amount": i.amount.to_string(),
            "outstanding": i.outstanding.to_string(), "currency": i.currency, "key": i.key,
            "charge": i.charge.as_ref().map(|c| json!({"amount": c.amount.to_string(), "currency": c.currency})),
        })).collect::<Vec<_>>(),
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn letter_html(
    name: &str,
    address: &str,
    subject: Option<&str>,
    body: &str,
    registered: bool,
    date: NaiveDate,
) -> String {
    let mention = if registered {
        "<p class=\"mention\">Lettre recommandée avec accusé de réception</p>\n"
    } else {
        ""
    };
    let subject = subject
        .map(|s| format!("<p class=\"subject\"><strong>{}</strong></p>\n", escape(s)))
        .unwrap_or_default();
    let paragraphs: String = body
        .split("\n\n")
        .map(|p| format!("<p>{}</p>\n", escape(p).replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:serif;max-width:40em;margin:3em auto}} .to{{margin-left:55%}}</style></head><body>\n\
         {mention}<p class=\"to\">{}<br>{}</p>\n<p class=\"to\">{date}</p>\n{subject}{paragraphs}</body></html>\n",
        escape(name),
        escape(name),
        escape(address).replace('\n', "<br>")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stdlib_template_renders_in_both_languages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
        let bundle = crate::catalog::Bundle::read_dir(&dir).expect("stdlib");
        let m: Message = serde_json::from_value(json!({
            "id": 1, "key": "F-1/v/s/1/0", "group": "g", "date": "2026-03-10", "customer": "ACME", "channel": "email",
            "text": "t", "action": {"kind": "email", "template": "x", "to": ["accounting"], "cc": []}, "scenario": "s",
            "items": [{"invoice": "F-1", "key": "k", "step": "s", "version": "v", "issued": "2026-01-01", "due": "2026-01-31",
                       "amount": "1200.00", "outstanding": "1200.00", "currency": "EUR"}],
            "status": "pending", "sealed": false, "attempts": 0
        }))
        .expect("message");
        let customer = Customer::new("ACME");
        let vars = variables(&m, &customer, &Company::default(), RateTable::builtin());
        for (name, text) in &bundle.templates {
            let Some((_, language, _)) = relance_templates::variant::parse_file_name(name) else {
                continue;
            };
            let variant = relance_templates::Variant {
                file: name.clone(),
                text,
                language: language.to_string(),
                fallback_from: None,
            };
            let (_, body) = render_text(&variant, &vars).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(body.contains("F-1"), "{name} lists the invoice");
        }
    }

    #[test]
    fn every_stdlib_template_prints_what_is_due_of_an_invoice_with_installments() {
        // 1,000 EUR in three installments: 300 due 01-31, 300 due 02-28, 400 due 03-31; 150
        // paid (to the first). On 03-10: installment 1 has 150 unpaid (38 days late),
        // installment 2 its 300 (10 days late), installment 3 is not due. Due now: 300 + 300
        // fallen due - 150 paid = 450.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
        let bundle = crate::catalog::Bundle::read_dir(&dir).expect("stdlib");
        let message = |installments: bool| -> Message {
            let mut item = json!({"invoice": "F-1", "key": "k", "step": "s", "version": "v",
                "issued": "2026-01-01", "due": "2026-01-31", "amount": "1000.00",
                "outstanding": "850.00", "currency": "EUR"});
            if installments {
                item["due_now"] = json!("450.00");
                item["installments"] = json!([
                    {"number": 1, "due": "2026-01-31", "amount": "300.00", "unpaid": "150.00",
                     "days_late": 38, "overdue": true},
                    {"number": 2, "due": "2026-02-28", "amount": "300.00", "unpaid": "300.00",
                     "days_late": 10, "overdue": true},
                    {"number": 3, "due": "2026-03-31", "amount": "400.00", "unpaid": "400.00",
                     "days_late": -21, "overdue": false},
                ]);
            }
            serde_json::from_value(json!({
                "id": 1, "key": "F-1/v/s/1/0", "group": "g", "date": "2026-03-10", "customer": "ACME",
                "channel": "email", "text": "t", "scenario": "s",
                "action": {"kind": "email", "template": "x", "to": ["accounting"], "cc": []},
                "items": [item], "status": "pending", "sealed": false, "attempts": 0
            }))
            .expect("message")
        };
        let nb = '\u{a0}';
        let french = [
            format!("  montant exigible à ce jour (échéances échues) : 450,00{nb}€\n"),
            format!("  · échéance 1 du 31 janvier 2026 : 300,00{nb}€, reste à payer 150,00{nb}€\n"),
            format!("  · échéance 2 du 28 février 2026 : 300,00{nb}€, reste à payer 300,00{nb}€\n"),
        ];
        let english = [
            "  due now (installments fallen due): €450.00\n".to_string(),
            "  · installment 1 due 31 January 2026: €300.00, €150.00 unpaid\n".into(),
            "  · installment 2 due 28 February 2026: €300.00, €300.00 unpaid\n".into(),
        ];
        let customer = Customer::new("ACME");
        let with = variables(
            &message(true),
            &customer,
            &Company::default(),
            RateTable::builtin(),
        );
        let without = variables(
            &message(false),
            &customer,
            &Company::default(),
            RateTable::builtin(),
        );
        let mut checked = 0;
        for (name, text) in &bundle.templates {
            let Some((_, language, _)) = relance_templates::variant::parse_file_name(name) else {
                continue;
            };
            let variant = relance_templates::Variant {
                file: name.clone(),
                text,
                language: language.to_string(),
                fallback_from: None,
            };
            let (_, body) = render_text(&variant, &with).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (_, plain) =
                render_text(&variant, &without).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (lines, now) = if language == "fr" {
                (&french, format!("dont 450,00{nb}€ exigible"))
            } else {
                (&english, "€450.00 due now".to_string())
            };
            if name.contains("sms") {
                // A text message says the amount due now, not the list.
                assert!(body.contains(&now), "{name}: {body}");
                assert!(!plain.contains(&now), "{name}: {plain}");
            } else {
                for line in lines {
                    assert!(
                        body.contains(line.as_str()),
                        "{name} lacks {line:?}:\n{body}"
                    );
                    assert!(!plain.contains(line.as_str()), "{name}: {plain}");
                }
                // Installment 3 is not due: not listed.
                assert!(
                    !body.contains("31 mars 2026") && !body.contains("31 March 2026"),
                    "{name}"
                );
            }
            // Without installments, the message is as before.
            assert!(
                !plain.contains("exigible") && !plain.contains("installment"),
                "{name}: {plain}"
            );
            checked += 1;
        }
        assert!(checked >= 30, "{checked} templates");
    }

    #[test]
    fn the_formal_notice_states_the_contractual_rate_or_the_default_one() {
        // L441-10 II: the contractual rate, else ECB + 10 points (2026-H1: 2.15 + 10 = 12.15).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
        let bundle = crate::catalog::Bundle::read_dir(&dir).expect("stdlib");
        let m: Message = serde_json::from_value(json!({
            "id": 1, "key": "F-1/v/notice/1/0", "group": "g", "date": "2026-03-10", "customer": "ACME",
            "channel": "letter", "text": "t", "scenario": "s",
            "action": {"kind": "letter", "template": "formal-notice", "to": ["legal"], "registered": true},
            "items": [{"invoice": "F-1", "key": "k", "step": "notice", "version": "v", "issued": "2026-01-01",
                       "due": "2026-01-31", "amount": "1200.00", "outstanding": "1200.00", "currency": "EUR"}],
            "status": "pending", "sealed": false, "attempts": 0
        }))
        .expect("message");
        let text = &bundle.templates["formal-notice.fr.txt"];
        let variant = relance_templates::Variant {
            file: "formal-notice.fr.txt".into(),
            text,
            language: "fr".into(),
            fallback_from: None,
        };
        let mut customer = Customer::new("ACME");
        let body = |customer: &Customer| {
            let vars = variables(&m, customer, &Company::default(), RateTable::builtin());
            render_text(&variant, &vars).expect("renders").1
        };
        let default = body(&customer);
        assert!(
            default
                .contains("au taux annuel de 12,15 % (taux de refinancement de la Banque centrale"),
            "{default}"
        );
        customer.late_interest_rate = Some(Decimal::new(155, 1));
        let contract = body(&customer);
        assert!(
            contract.contains(
                "au taux annuel de 15,5 % (taux prévu à nos conditions générales de vente)"
            ),
            "{contract}"
        );
        // The rate the engine kept with the item (the charge's own choice: here the scenario's
        // `late-interest 3 times legal rate`, 3 × 2.62 = 7.86 in 2026-H1) wins over the
        // customer's, in French and in English.
        let mut kept = m.clone();
        kept.items[0].late_interest_rate = Some(Decimal::new(786, 2));
        kept.items[0].late_interest_contractual = true;
        let vars = variables(&kept, &customer, &Company::default(), RateTable::builtin());
        assert_eq!(vars["invoices"][0]["late_interest_rate"], "7.86");
        let fr = render_text(&variant, &vars).expect("renders").1;
        assert!(
            fr.contains(
                "au taux annuel de 7,86 % (taux prévu à nos conditions générales de vente)"
            ),
            "{fr}"
        );
        let english = relance_templates::Variant {
            file: "formal-notice.en.txt".into(),
            text: &bundle.templates["formal-notice.en.txt"],
            language: "en".into(),
            fallback_from: None,
        };
        let en = render_text(&english, &vars).expect("renders").1;
        assert!(
            en.contains("at the annual rate of 7.86% (the rate of our general terms of sale)"),
            "{en}"
        );
    }

    #[test]
    fn a_letter_shows_the_address_block() {
        let m: Message = serde_json::from_value(json!({
            "id": 1, "key": "F-1/v/notice/1/0", "group": "g", "date": "2026-03-10", "customer": "ACME",
            "channel": "letter", "text": "t", "scenario": "s",
            "action": {"kind": "letter", "template": "notice", "to": ["legal"], "registered": true},
            "items": [{"invoice": "F-1", "key": "k", "step": "s", "version": "v", "issued": "2026-01-01", "due": "2026-01-31",
                       "amount": "1200.00", "outstanding": "1200.00", "currency": "EUR"}],
            "status": "pending", "sealed": false, "attempts": 0
        }))
        .expect("message");
        let mut customer: Customer = serde_json::from_value(json!({
            "id": "ACME", "name": "Acme SA",
            "contacts": {"legal": {"name": "Acme SA – juridique", "address": {
                "lines": ["Service juridique", "Rue Neuve 1"], "postcode": "1000", "city": "Bruxelles", "country": "BE"}}}
        }))
        .expect("customer");
        let templates = BTreeMap::from([(
            "notice.fr.txt".to_string(),
            "Subject: Mise en demeure\n{{ address.postcode }}|{{ address.city }}|{{ address.country }}|{{ address.lines|join(\"/\") }}\n\n{{ address.block }}".to_string(),
        )]);
        let render = |customer: &Customer| {
            render(
                &m,
                customer,
                &templates,
                &Company::default(),
                RateTable::builtin(),
                "example.com",
            )
            .expect("rendered")
        };
        let r = render(&customer);
        assert_eq!(
            r.to,
            ["Acme SA – juridique\nService juridique\nRue Neuve 1\n1000 Bruxelles\nBELGIQUE"]
        );
        assert!(
            r.body.contains(
                "<p class=\"to\">Acme SA – juridique<br>Service juridique<br>Rue Neuve 1<br>1000 Bruxelles<br>BELGIQUE</p>"
            ),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("<p>1000|Bruxelles|BE|Service juridique/Rue Neuve 1</p>"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("<p>Service juridique<br>Rue Neuve 1<br>1000 Bruxelles<br>BELGIQUE</p>"),
            "the template's block: {}",
            r.body
        );
        // In France no country line; a legacy address prints its lines as they were.
        let legal = customer.contacts.get_mut("legal").expect("legal");
        legal.address = Some(relance_core::domain::PostalAddress {
            lines: vec!["1 rue de la Paix".into()],
            postcode: Some("75002".into()),
            city: Some("Paris".into()),
            country: Some("FR".into()),
        });
        assert_eq!(
            render(&customer).to,
            ["Acme SA – juridique\n1 rue de la Paix\n75002 Paris"]
        );
        customer.contacts.get_mut("legal").expect("legal").address = Some(
            relance_core::domain::PostalAddress::from_text("1 rue de la Paix\n75002 Paris"),
        );
        assert_eq!(
            render(&customer).to,
            ["Acme SA – juridique\n1 rue de la Paix\n75002 Paris"]
        );
    }

    /// No silent fallback: a missing variant is an error naming the template and the
    /// language; the set's declared fallback is used when there is one; a broken template
    /// names its file and line (these errors dead-letter the message).
    #[test]
    fn the_variant_is_the_customers_language_or_the_declared_fallback() {
        let m: Message = serde_json::from_value(json!({
            "id": 1, "key": "F-1/v/s/1/0", "group": "g", "date": "2026-04-01", "customer": "ACME", "channel": "email",
            "text": "t", "action": {"kind": "email", "template": "reminder-1", "to": ["accounting"], "cc": []}, "scenario": "s",
            "items": [{"invoice": "F-1", "key": "k", "step": "s", "version": "v", "issued": "2026-01-01", "due": "2026-01-31",
                       "amount": "1761.59", "outstanding": "1761.59", "currency": "EUR"}],
            "status": "pending", "sealed": false, "attempts": 0
        }))
        .expect("message");
        let customer: Customer = serde_json::from_value(json!({
            "id": "ACME", "language": "de",
            "contacts": {"accounting": {"email": "ap@acme.example"}}
        }))
        .expect("customer");
        let mut templates = BTreeMap::from([
            (
                "reminder-1.fr.txt".to_string(),
                "Subject: Relance\n{{ total_outstanding | money }} le {{ today | date }}"
                    .to_string(),
            ),
            (
                "reminder-1.en.txt".to_string(),
                "Subject: Reminder\n{{ total_outstanding | money }} on {{ today | date }}"
                    .to_string(),
            ),
        ]);
        let go = |templates: &BTreeMap<String, String>, customer: &Customer| {
            render(
                &m,
                customer,
                templates,
                &Company::default(),
                RateTable::builtin(),
                "example.com",
            )
        };
        let err = go(&templates, &customer).expect_err("no fallback declared");
        assert!(
            err.starts_with("no template `reminder-1` in language `de`"),
            "{err}"
        );
        templates.insert(
            "templates.toml".into(),
            "languages = [\"fr\", \"en\"]\nfallback = [\"en\"]\n".into(),
        );
        let r = go(&templates, &customer).expect("English fallback");
        assert_eq!(r.subject.as_deref(), Some("Reminder"));
        assert_eq!(r.body, "€1,761.59 on 1 April 2026");
        let mut french = customer.clone();
        french.language = "fr".into();
        let r = go(&templates, &french).expect("French");
        assert_eq!(r.body, "1\u{202f}761,59\u{a0}€ le 1er avril 2026");
        templates.insert(
            "reminder-1.fr.txt".into(),
            "Subject: x\n\n{{ today | date }".into(),
        );
        let err = go(&templates, &french).expect_err("broken");
        assert!(
            err.starts_with("template templates/reminder-1.fr.txt, line 3: syntax error"),
            "{err}"
        );
    }

    #[test]
    fn message_ids_are_deterministic_and_safe() {
        let id = message_id("F-1/3f2a/reminder-1/1/0", "example.com");
        assert_eq!(id, "<relance.F-1.3f2a.reminder-1.1.0@example.com>");
        assert_eq!(message_id("F-1/3f2a/reminder-1/1/0", "example.com"), id);
        let odd = message_id("F 1/x/on dispute opened/1/0", "example.com");
        assert!(!odd.contains(' ') && !odd.contains(".."), "{odd}");
    }
}
