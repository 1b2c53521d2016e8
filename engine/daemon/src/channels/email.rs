//! Email: builds the MIME message from the rendered text (deterministic Message-ID from the
//! idempotency key; `Date:` on the engine's clock, see [`sent_at`]) and sends it over SMTP
//! with lettre, or writes it to the spool.
//!
//! It classifies SMTP failures: a rejected mailbox (550, 551, 553) is a bounce, another 5xx is
//! permanent, anything else (4xx, connection) is transient. The [`Channel`] of `email` actions;
//! it must not retry by itself nor touch the store.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::super::clock::Clock;
use super::super::config::{Email, EmailTransport, Tls};
use super::super::model::{Message, Rendered};
use super::super::outbox::Delivery;
use super::spool::Spool;
use super::{Attempt, Channel};
use relance_dsl::ir::Action;

pub struct EmailChannel {
    from: String,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    spool: Spool,
    clock: Arc<dyn Clock>,
}

/// The instant of an email's `Date:` header, on the engine's clock: now on the wall clock; on
/// a virtual clock, its day at the current UTC time of day (its day moves only when told, its
/// hours are real), so that mail sent on a virtual day is dated that day.
pub fn sent_at(clock: &dyn Clock) -> SystemTime {
    let now = clock.now();
    let at = if clock.as_virtual().is_some() {
        clock.today().and_time(now.time()).and_utc()
    } else {
        now
    };
    SystemTime::from(at)
}

impl EmailChannel {
    pub fn new(
        config: &Email,
        spool: Spool,
        clock: Arc<dyn Clock>,
    ) -> Result<EmailChannel, String> {
        config
            .from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("email.from `{}`: {e}", config.from))?;
        let smtp = match config.transport {
            EmailTransport::Spool => None,
            EmailTransport::Smtp => {
                let builder = match config.tls {
                    Tls::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                    }
                    Tls::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                            .map_err(|e| e.to_string())?
                    }
                    Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                        .map_err(|e| e.to_string())?,
                };
                let mut builder = builder
                    .port(config.port)
                    .timeout(Some(Duration::from_secs(config.timeout_secs)));
                if let (Some(u), Some(p)) = (&config.username, &config.password) {
                    builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
                }
                Some(builder.build())
            }
        };
        Ok(EmailChannel {
            from: config.from.clone(),
            smtp,
            spool,
            clock,
        })
    }

    fn build(&self, r: &Rendered) -> Result<lettre::Message, String> {
        let from = self.from.parse().map_err(|e| format!("from: {e}"))?;
        let mut b = lettre::Message::builder()
            .from(from)
            .subject(r.subject.clone().unwrap_or_default())
            .date(sent_at(&*self.clock))
            .message_id(r.message_id.clone());
        for to in &r.to {
            b = b.to(to.parse().map_err(|e| format!("address `{to}`: {e}"))?);
        }
        for cc in &r.cc {
            b = b.cc(cc.parse().map_err(|e| format!("address `{cc}`: {e}"))?);
        }
        b.header(ContentType::TEXT_PLAIN)
            .body(r.body.clone())
            .map_err(|e| e.to_string())
    }

    async fn send(&self, m: &Message, r: &Rendered) -> Delivery {
        let email = match self.build(r) {
            Ok(e) => e,
            Err(e) => return Delivery::Permanent(e),
        };
        let Some(smtp) = &self.smtp else {
            return match self.spool.write("email", m, "eml", &email.formatted()) {
                Ok(path) => Delivery::Delivered(path.display().to_string()),
                Err(e) => Delivery::Transient(e),
            };
        };
        match smtp.send(email).await {
            Ok(reply) => Delivery::Delivered(format!("smtp {}", reply.code())),
            Err(e) => classify(&e, r),
        }
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn handles(&self, action: &Action) -> bool {
        matches!(action, Action::Email { .. })
    }

    fn deliver<'a>(&'a self, m: &'a Message, r: &'a Rendered) -> Attempt<'a> {
        Box::pin(self.send(m, r))
    }
}

fn classify(e: &lettre::transport::smtp::Error, r: &Rendered) -> Delivery {
    let code = e.status().map(|c| c.to_string());
    if e.is_permanent() {
        if matches!(code.as_deref(), Some("550" | "551" | "553")) {
            return Delivery::Bounced {
                roles: r.roles.clone(),
                reason: e.to_string(),
            };
        }
        return Delivery::Permanent(e.to_string());
    }
    Delivery::Transient(e.to_string())
}
