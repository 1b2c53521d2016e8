//! SMS and webhooks: HTTP POST of the JSON rendered at sealing, with an `Idempotency-Key`
//! header carrying the message key (the same on every attempt) and an optional bearer token.
//!
//! The [`Channel`] of `sms`, `webhook "NAME"` (the webhook is required), `escalate` (to the
//! `escalation` webhook when configured, the receipt saying the hand-off is recorded), and
//! `block`, `unblock`, `charge`, `tag` (to the webhook of that name when configured, else only
//! recorded).
//!
//! 2xx is delivered; 408, 429, 5xx and network errors are transient; other 4xx are permanent;
//! a missing URL is permanent (or written to the spool with `spool_unconfigured`). It must not
//! retry by itself nor touch the store.

use std::collections::BTreeMap;
use std::time::Duration;

use super::super::config::{Config, Webhook};
use super::super::model::{Message, Rendered};
use super::super::outbox::Delivery;
use super::spool::Spool;
use super::{Attempt, Channel};
use relance_dsl::ir::Action;

pub struct HttpChannel {
    client: reqwest::Client,
    sms: Option<Webhook>,
    hooks: BTreeMap<String, Webhook>,
    spool: Spool,
    spool_unconfigured: bool,
}

impl HttpChannel {
    pub fn new(config: &Config, spool: Spool) -> Result<HttpChannel, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.outbox.http_timeout_secs))
            .build()
            .map_err(|e| e.to_string())?;
        let sms = config.sms.url.clone().map(|url| Webhook {
            url,
            bearer: config.sms.bearer.clone(),
        });
        Ok(HttpChannel {
            client,
            sms,
            hooks: config.webhooks.clone(),
            spool,
            spool_unconfigured: config.spool_unconfigured,
        })
    }

    async fn sms(&self, m: &Message, r: &Rendered) -> Delivery {
        match &self.sms {
            Some(hook) => self.post(hook, m, r).await,
            None => self.unconfigured("sms", "no SMS gateway configured (sms.url)", m, r),
        }
    }

    /// Posts to the webhook `name`; without one, `required` dead-letters, else the action is
    /// only recorded.
    async fn webhook(&self, name: &str, m: &Message, r: &Rendered, required: bool) -> Delivery {
        match self.hooks.get(name) {
            Some(hook) => self.post(hook, m, r).await,
            None if required => self.unconfigured(
                "webhooks",
                &format!("no webhook named `{name}` configured"),
                m,
                r,
            ),
            None => Delivery::Delivered("recorded".into()),
        }
    }

    fn unconfigured(&self, kind: &str, why: &str, m: &Message, r: &Rendered) -> Delivery {
        if !self.spool_unconfigured {
            return Delivery::Permanent(why.to_string());
        }
        match self.spool.write(kind, m, "json", r.body.as_bytes()) {
            Ok(path) => Delivery::Delivered(path.display().to_string()),
            Err(e) => Delivery::Transient(e),
        }
    }

    async fn post(&self, hook: &Webhook, m: &Message, r: &Rendered) -> Delivery {
        let mut req = self
            .client
            .post(&hook.url)
            .header("Idempotency-Key", &m.key)
            .header("Content-Type", "application/json")
            .body(r.body.clone());
        if let Some(b) = &hook.bearer {
            req = req.bearer_auth(b);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                if status.is_success() {
                    Delivery::Delivered(format!("HTTP {}", status.as_u16()))
                } else if status.as_u16() == 408
                    || status.as_u16() == 429
                    || status.is_server_error()
                {
                    Delivery::Transient(format!("HTTP {status} from {}", hook.url))
                } else {
                    Delivery::Permanent(format!("HTTP {status} from {}", hook.url))
                }
            }
            Err(e) => Delivery::Transient(format!("{}: {e}", hook.url)),
        }
    }
}

impl Channel for HttpChannel {
    fn name(&self) -> &'static str {
        "http"
    }

    fn handles(&self, action: &Action) -> bool {
        matches!(
            action,
            Action::Sms { .. }
                | Action::Webhook { .. }
                | Action::Escalate { .. }
                | Action::Block
                | Action::Unblock
                | Action::Charge { .. }
                | Action::Tag { .. }
        )
    }

    fn deliver<'a>(&'a self, m: &'a Message, r: &'a Rendered) -> Attempt<'a> {
        Box::pin(async move {
            match &m.action {
                Action::Sms { .. } => self.sms(m, r).await,
                Action::Webhook { name } => self.webhook(name, m, r, true).await,
                Action::Escalate { .. } => match self.webhook("escalation", m, r, false).await {
                    Delivery::Delivered(receipt) => {
                        Delivery::Delivered(format!("hand-off recorded; {receipt}"))
                    }
                    other => other,
                },
                _ => self.webhook(m.action.channel(), m, r, false).await,
            }
        })
    }
}
