//! A real SMTP server on loopback for the tests: mailin's protocol state machine over a
//! `std::net::TcpListener`, a thread per connection. Every message that crossed the socket is
//! kept, as the bytes the service sent, for the tests to read. It can be told to refuse messages
//! (a temporary or a permanent error), to show what the service does then.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use mailin::{response, Action, Handler, Response, SessionBuilder};

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Mail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(&self.raw)
            .expect("the message parses")
    }

    /// A header's value, unfolded (`None` when absent).
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = self.parsed();
        let value = parsed.header_raw(name)?;
        Some(value.replace("\r\n", "").trim().to_string())
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// The plain-text part, decoded.
    pub fn text(&self) -> String {
        self.parsed().body_text(0).expect("a text part").to_string()
    }

    /// The HTML part, decoded.
    pub fn html(&self) -> String {
        let parsed = self.parsed();
        let part = parsed
            .html_part(0)
            .filter(|p| {
                p.content_type()
                    .is_some_and(|c| c.subtype() == Some("html"))
            })
            .expect("an HTML part");
        String::from_utf8_lossy(part.contents()).to_string()
    }

    /// The path of the first link to the service in the text part, after its base URL
    /// (`/api/v1/invitations/{token}`).
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("/api/v1/").expect("a link to the service");
        text[start..].split_whitespace().next().unwrap().to_string()
    }

    /// Everything a reader of this message could see: headers and both parts, decoded.
    pub fn everything(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            String::from_utf8_lossy(&self.raw),
            self.subject(),
            self.text(),
            self.html()
        )
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Mail>,
    /// The answer to the end of the next messages' data, instead of 250.
    refusing: Option<(u16, u32)>,
}

/// The running server; it lives until the test process ends.
#[derive(Clone)]
pub struct MailServer {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
}

impl MailServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let server = MailServer {
            port,
            shared: shared.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, shared));
            }
        });
        server
    }

    /// Points `config` at this server (`SMTP_URL`, `MAIL_FROM`).
    pub fn configure(&self, config: &mut intercede::config::Config) {
        config.mail = Some(intercede::config::MailConfig {
            smtp_url: self.url(),
            from: "Prayer ministry <prayer@example.org>".parse().unwrap(),
        });
    }

    /// `smtp://127.0.0.1:{port}`, for the service's `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Mail> {
        self.shared.lock().unwrap().received.clone()
    }

    /// The messages to `address`, waiting (at most 10 s) until there are at least `n`.
    pub async fn wait_for(&self, address: &str, n: usize) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let to: Vec<Mail> = self
                .received()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t == address))
                .collect();
            if to.len() >= n || start.elapsed() > Duration::from_secs(10) {
                return to;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Answers the next `times` messages with `code` (451: try later; 550: never).
    pub fn refuse(&self, code: u16, times: u32) {
        self.shared.lock().unwrap().refusing = Some((code, times));
    }
}

struct Collector {
    shared: Arc<Mutex<Shared>>,
    mail: Mail,
    /// Set at the end of a refused message's data, for the connection's loop to answer with.
    /// (mailin stays in its data state after an error answer there, though RFC 5321 ends the
    /// transaction at the final dot; so mailin is told OK and the loop sends the refusal.)
    refused: Arc<Mutex<Option<u16>>>,
}

impl Handler for Collector {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.mail = Mail {
            from: from.to_string(),
            to: Vec::new(),
            raw: Vec::new(),
        };
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        self.mail.to.push(to.to_string());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.mail.raw.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut shared = self.shared.lock().unwrap();
        if let Some((code, times)) = shared.refusing {
            shared.refusing = (times > 1).then(|| (code, times - 1));
            *self.refused.lock().unwrap() = Some(code);
            return response::OK;
        }
        shared.received.push(self.mail.clone());
        response::OK
    }
}

fn serve(stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    let peer = stream.peer_addr().map(|a| a.ip()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let refused = Arc::new(Mutex::new(None));
    let handler = Collector {
        shared,
        refused: refused.clone(),
        mail: Mail {
            from: String::new(),
            to: Vec::new(),
            raw: Vec::new(),
        },
    };
    let mut session = SessionBuilder::new("test.smtp.local").build(peer, handler);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut answer = session.process(&line);
        if let Some(code) = refused.lock().unwrap().take() {
            answer = Response::custom(code, "refused by the test".into());
        }
        match answer.action {
            Action::NoReply => continue,
            Action::Close => {
                let _ = answer.write_to(&mut writer);
                return;
            }
            _ => {
                if answer.write_to(&mut writer).is_err() {
                    return;
                }
                let _ = writer.flush();
            }
        }
    }
}
