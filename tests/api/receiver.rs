//! A real HTTP receiver for webhooks on loopback, started by the test: an actix server that
//! keeps every request that reached it and answers as the test scripted (200 unless told
//! otherwise), to show retries, `Retry-After`, redirects and 410.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// Checks the signature with the Standard Webhooks project's own library (an independent
    /// implementation of the specification), under `secret`.
    pub fn verified_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret)
            .expect("a whsec_ secret")
            .verify(&self.body, &self.headers)
            .is_ok()
    }
}

/// What to answer: a status and extra headers.
type Answer = (u16, Vec<(&'static str, String)>);

#[derive(Default)]
struct Shared {
    got: Vec<Received>,
    script: VecDeque<Answer>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Mutex<Shared>>,
) -> HttpResponse {
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(n, v);
        }
    }
    let mut shared = shared.lock().unwrap();
    shared.got.push(Received {
        headers,
        body: body.to_vec(),
    });
    let (status, extra) = shared.script.pop_front().unwrap_or((200, Vec::new()));
    let mut answer =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status"));
    for (name, value) in extra {
        answer.insert_header((name, value));
    }
    answer.finish()
}

impl Receiver {
    /// Starts a receiver on a free loopback port, on the test's runtime.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("listens")
        .run();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/intercede"),
            shared,
        }
    }

    /// Answers the next requests, in order, with these statuses and headers.
    pub fn answer(&self, answers: Vec<Answer>) {
        self.shared.lock().unwrap().script.extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().got.clone()
    }

    /// Waits (at most `secs` seconds) until `n` requests have arrived, and returns them all.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > Duration::from_secs(secs) {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
