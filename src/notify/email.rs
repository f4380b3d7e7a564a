//! The email channel: a notification rendered for its recipient, composed as a multipart
//! message (plain text and HTML, from templates compiled into the binary) and sent over a pool
//! of SMTP connections.
//!
//! Every message carries `Message-ID: <{delivery id}@{sender's domain}>`, the same on every
//! attempt, so a mail system that saw it already drops the repeat, and RFC 8058's
//! `List-Unsubscribe` / `List-Unsubscribe-Post` headers with a link that switches that event's
//! email off ([`super::unsubscribe`]).
//!
//! The SMTP connections live on a runtime of their own ([`smtp_runtime`]), one thread for the
//! whole process, never torn down: lettre's pool closes and recycles connections from tasks it
//! spawns when they are dropped, which aborts the process when that happens outside a Tokio
//! runtime, as it does when an HTTP worker's runtime stops with a send in flight.

use std::sync::OnceLock;
use std::time::Duration;

use askama::Template;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::render::Rendered;
use super::worker::SendError;
use crate::config::MailConfig;
use crate::error::{AppError, AppResult};

/// SMTP connections kept open to the relay, and messages sent at once: as many as the worker's
/// deliveries in flight, so none waits for a connection while another plans its message. Four
/// drained 168-184 emails/s on a 2-core machine, eight 214-219/s, the readers' p99 the same
/// (docs/benchmarks.md, "A batch's outcomes in one write").
pub const CONNECTIONS: u32 = 8;
/// How long one SMTP command may take before the attempt counts as failed.
const TIMEOUT: Duration = Duration::from_secs(30);

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

const FOOTER: &str = "You receive this email because of your notification preferences. \
To stop emails of this kind, use your mail program's unsubscribe button, or change your \
preferences in the app.";

/// The runtime every SMTP connection lives on: one thread, for the life of the process.
fn smtp_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("smtp")
            .enable_all()
            .build()
            .expect("the SMTP runtime starts")
    })
}

const ACCOUNT_FOOTER: &str = "You receive this email because someone asked for it with this \
address. If it was not you, you can ignore it.";

/// The SMTP transport and what every message shares.
pub struct Mailer {
    /// Always `Some` until dropped (see the `Drop` impl).
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    base_url: String,
}

/// What one email says, before it becomes a message.
pub struct Letter {
    /// The delivery's id: the message's `Message-ID`.
    pub id: String,
    pub to: Mailbox,
    pub rendered: Rendered,
    /// `true`: say only what kind of thing happened, with the link.
    pub discreet: bool,
    /// The one-click unsubscribe link's token; `None` for an email about one's account (an
    /// invitation, a password reset), which no preference stops.
    pub unsubscribe_token: Option<String>,
}

#[derive(Template)]
#[template(path = "email/notification.txt")]
struct TextPart<'a> {
    greeting: &'a str,
    body: &'a str,
    link: &'a str,
    footer: &'a str,
}

#[derive(Template)]
#[template(path = "email/notification.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    greeting: &'a str,
    body: &'a str,
    link: &'a str,
    link_label: &'a str,
    footer: &'a str,
}

impl Mailer {
    pub fn new(mail: &MailConfig, base_url: &str) -> AppResult<Self> {
        let _on = smtp_runtime().enter();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&mail.smtp_url)
            .map_err(AppError::internal)?
            .timeout(Some(TIMEOUT))
            .pool_config(PoolConfig::new().max_size(CONNECTIONS))
            .build();
        Ok(Mailer {
            transport: Some(transport),
            from: mail.from.clone(),
            base_url: base_url.to_string(),
        })
    }

    /// The message for `letter`, addressed and headed.
    pub fn compose(&self, letter: Letter) -> AppResult<Message> {
        let Rendered { title, body, link } = letter.rendered;
        let link = format!("{}{}", self.base_url, link.as_deref().unwrap_or(""));
        let greeting = format!("Dear {}", letter.to.name.as_deref().unwrap_or("friend"));
        let body = if letter.discreet {
            format!("You have a new notification: {}.", lowercase_first(&title))
        } else {
            body
        };
        let footer = if letter.unsubscribe_token.is_some() {
            FOOTER
        } else {
            ACCOUNT_FOOTER
        };
        let text = TextPart {
            greeting: &greeting,
            body: &body,
            link: &link,
            footer,
        }
        .render()
        .map_err(AppError::internal)?;
        let html = HtmlPart {
            subject: &title,
            greeting: &greeting,
            body: &body,
            link: &link,
            link_label: if letter.unsubscribe_token.is_some() {
                "Open it in the app"
            } else {
                "Follow the link"
            },
            footer,
        }
        .render()
        .map_err(AppError::internal)?;
        let domain = self.from.email.domain().to_string();
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(letter.to)
            .subject(title)
            .message_id(Some(format!("<{}@{domain}>", letter.id)));
        if let Some(token) = &letter.unsubscribe_token {
            let unsubscribe = format!("<{}/api/v1/unsubscribe/{token}>", self.base_url);
            message = message
                .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE, unsubscribe))
                .raw_header(HeaderValue::new(
                    LIST_UNSUBSCRIBE_POST,
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        message
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            )
            .map_err(AppError::internal)
    }

    /// Sends `message` over one of the pool's connections (on the SMTP runtime).
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let transport = self
            .transport
            .clone()
            .expect("the transport lives as long as the mailer");
        let sent = smtp_runtime()
            .spawn(async move { transport.send(message).await })
            .await
            .map_err(|e| SendError::Transient(format!("the SMTP task ended: {e}")))?;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

impl Drop for Mailer {
    /// The pool closes its connections from a task it spawns: on the SMTP runtime, where they
    /// live, whatever runtime (or none) drops the mailer.
    fn drop(&mut self) {
        let _on = smtp_runtime().enter();
        self.transport.take();
    }
}

/// The mailbox an email goes to, when `address` is one SMTP takes (a stored address that is
/// not is dropped by the caller, not retried).
pub fn mailbox(name: Option<String>, address: &str) -> Option<Mailbox> {
    Some(Mailbox::new(name, address.parse().ok()?))
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
