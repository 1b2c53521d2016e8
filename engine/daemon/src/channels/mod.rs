//! Channels: how a sealed, rendered message leaves the engine. Each transport is one module
//! implementing [`Channel`]; a [`Registry`] built from the configuration hands every message to
//! the first registered channel that handles its action.
//!
//! Built in, in registration order: `email` (SMTP via lettre, or `.eml` files in the spool),
//! `http` (sms, webhooks, escalations, block/unblock/charge/tag: HTTP POST JSON with an
//! `Idempotency-Key` header), `letter` (PDF and HTML files in the spool, the PDF laid out by
//! `letter_pdf`), `agenda` (calls, tasks and
//! alerts: the dispatcher writes their agenda entries). Adding a transport is one module here
//! plus one line in [`Registry::register_builtins`] (see `docs/DAEMON.md`).
//!
//! Each attempt returns a [`Delivery`]; a channel must not touch the store or decide retries
//! (the outbox rules and the dispatcher do).

pub mod agenda;
pub mod email;
pub mod http;
pub mod letter;
pub mod letter_pdf;
pub mod spool;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use relance_dsl::ir::Action;

use super::clock::Clock;
use super::config::Config;
use super::model::{Message, Rendered};
use super::outbox::Delivery;

/// One attempt in progress.
pub type Attempt<'a> = Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;

/// A transport: which actions it carries, and one attempt to deliver a rendered message.
pub trait Channel: Send + Sync {
    /// Its name, for logs and `docs/DAEMON.md` (`email`, `http`, `letter`, `agenda`).
    fn name(&self) -> &'static str;

    /// Whether it carries messages of this action.
    fn handles(&self, action: &Action) -> bool;

    /// One attempt to deliver `m`, rendered as `r` at sealing (the same on every attempt). It
    /// must not retry by itself: a failure is `Transient`, `Permanent` or `Bounced`.
    fn deliver<'a>(&'a self, m: &'a Message, r: &'a Rendered) -> Attempt<'a>;
}

/// The channels of a daemon, asked in registration order.
#[derive(Default)]
pub struct Registry {
    channels: Vec<Box<dyn Channel>>,
}

impl Registry {
    /// An empty registry (no message can be delivered until channels are registered).
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The built-in channels, configured from `config`, on the engine's `clock` (the `Date:`
    /// of emails).
    pub fn from_config(config: &Config, clock: Arc<dyn Clock>) -> Result<Registry, String> {
        let mut registry = Registry::new();
        registry.register_builtins(config, clock)?;
        Ok(registry)
    }

    /// Registers the built-in channels after those already registered (which therefore take
    /// precedence for the actions they handle).
    pub fn register_builtins(
        &mut self,
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> Result<(), String> {
        let spool = spool::Spool::new(config.spool.clone());
        self.register(email::EmailChannel::new(
            &config.email,
            spool.clone(),
            clock,
        )?);
        self.register(http::HttpChannel::new(config, spool.clone())?);
        self.register(letter::LetterChannel::new(spool, config.company.clone()));
        self.register(agenda::AgendaChannel);
        Ok(())
    }

    /// Adds a channel after those already registered.
    pub fn register(&mut self, channel: impl Channel + 'static) -> &mut Registry {
        self.channels.push(Box::new(channel));
        self
    }

    /// The names of the registered channels, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.channels.iter().map(|c| c.name()).collect()
    }

    /// The channel that carries messages of `action`: the first registered that handles it.
    pub fn channel_for(&self, action: &Action) -> Option<&dyn Channel> {
        self.channels
            .iter()
            .find(|c| c.handles(action))
            .map(|c| c.as_ref())
    }

    /// One attempt to deliver `m` through its channel.
    pub async fn deliver(&self, m: &Message) -> Delivery {
        let Some(rendered) = &m.rendered else {
            return Delivery::Permanent("the message was not rendered".into());
        };
        match self.channel_for(&m.action) {
            Some(channel) => channel.deliver(m, rendered).await,
            None => Delivery::Permanent(format!(
                "no channel carries `{}` actions",
                m.action.channel()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::clock::VirtualClock;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(VirtualClock::new("2026-03-10".parse().expect("test day")))
    }

    /// A channel that records the keys of the messages it receives.
    struct Recorder {
        kind: &'static str,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl Channel for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn handles(&self, action: &Action) -> bool {
            action.channel() == self.kind
        }
        fn deliver<'a>(&'a self, m: &'a Message, _: &'a Rendered) -> Attempt<'a> {
            Box::pin(async move {
                self.seen.lock().expect("lock").push(m.key.clone());
                Delivery::Delivered("recorded".into())
            })
        }
    }

    fn message(key: &str, action: Action) -> Message {
        let mut m: Message = serde_json::from_value(serde_json::json!({
            "id": 1, "key": key, "group": "g", "date": "2026-03-10", "customer": "ACME",
            "channel": action.channel(), "text": "t", "action": action, "scenario": "s",
            "items": [], "status": "pending", "sealed": true, "attempts": 0
        }))
        .expect("message");
        m.rendered = Some(Rendered {
            body: "<p>letter</p>".into(),
            ..Rendered::default()
        });
        m
    }

    fn letter() -> Action {
        Action::Letter {
            template: "formal-notice".into(),
            to: vec!["legal".into()],
            registered: true,
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_registered_channel_receives_the_messages_of_its_kind() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut registry = Registry::new();
        registry.register(Recorder {
            kind: "letter",
            seen: seen.clone(),
        });
        runtime().block_on(async {
            assert_eq!(
                registry.deliver(&message("L-1", letter())).await,
                Delivery::Delivered("recorded".into())
            );
            let task = Action::Task {
                text: "call back".into(),
                assign: None,
            };
            assert_eq!(
                registry.deliver(&message("T-1", task)).await,
                Delivery::Permanent("no channel carries `task` actions".into()),
                "nothing registered for tasks"
            );
        });
        assert_eq!(*seen.lock().expect("lock"), ["L-1"]);
    }

    #[test]
    fn a_channel_registered_before_the_builtins_takes_their_kind_over() {
        let spool = std::env::temp_dir().join(format!("relance-registry-{}", std::process::id()));
        let config = Config {
            spool: spool.clone(),
            ..Config::default()
        };
        let builtins = Registry::from_config(&config, clock()).expect("builtins");
        assert_eq!(builtins.names(), ["email", "http", "letter", "agenda"]);
        assert_eq!(
            builtins.channel_for(&letter()).map(|c| c.name()),
            Some("letter")
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut registry = Registry::new();
        registry.register(Recorder {
            kind: "letter",
            seen: seen.clone(),
        });
        registry
            .register_builtins(&config, clock())
            .expect("builtins");
        let delivered = runtime().block_on(registry.deliver(&message("L-2", letter())));
        assert_eq!(delivered, Delivery::Delivered("recorded".into()));
        assert_eq!(*seen.lock().expect("lock"), ["L-2"]);
        assert!(!spool.exists(), "the letter spool wrote nothing");
    }
}
