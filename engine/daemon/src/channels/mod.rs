//! Channels: how a sealed, rendered message leaves the engine.
//!
//! email → SMTP (lettre) or `.eml` files in the spool; sms and webhooks → HTTP POST JSON with
//! an `Idempotency-Key` header; letters → HTML files in the spool; calls, tasks and alerts →
//! the agenda (written by the dispatcher); escalations → a hand-off record plus the
//! `escalation` webhook when configured; block, unblock, charge and tag → the webhook of that
//! name when configured, else recorded only. Each attempt returns a [`Delivery`]; a channel
//! must not touch the store or decide retries.

pub mod email;
pub mod http;
pub mod spool;

use relance_dsl::ir::Action;

use super::config::Config;
use super::model::Message;
use super::outbox::Delivery;

pub struct Channels {
    email: email::EmailChannel,
    http: http::HttpChannel,
    spool: spool::Spool,
}

impl Channels {
    pub fn new(config: &Config) -> Result<Channels, String> {
        let spool = spool::Spool::new(config.spool.clone());
        Ok(Channels {
            email: email::EmailChannel::new(&config.email, spool.clone())?,
            http: http::HttpChannel::new(config, spool.clone())?,
            spool,
        })
    }

    /// One attempt to deliver `m`.
    pub async fn deliver(&self, m: &Message) -> Delivery {
        let Some(rendered) = &m.rendered else {
            return Delivery::Permanent("the message was not rendered".into());
        };
        match &m.action {
            Action::Email { .. } => self.email.send(m, rendered).await,
            Action::Sms { .. } => self.http.sms(m, rendered).await,
            Action::Letter { .. } => self.spool.letter(m, rendered),
            Action::Call { .. } | Action::Task { .. } | Action::Alert { .. } => {
                Delivery::Delivered("agenda".into())
            }
            Action::Webhook { name } => self.http.webhook(name, m, rendered, true).await,
            Action::Escalate { .. } => {
                match self.http.webhook("escalation", m, rendered, false).await {
                    Delivery::Delivered(r) => {
                        Delivery::Delivered(format!("hand-off recorded; {r}"))
                    }
                    other => other,
                }
            }
            Action::Block | Action::Unblock | Action::Charge { .. } | Action::Tag { .. } => {
                self.http
                    .webhook(m.action.channel(), m, rendered, false)
                    .await
            }
        }
    }
}
