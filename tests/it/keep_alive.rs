//! Issue #16: an answer given before the request body was read (401, 403, 404, 413, 429, a 400
//! from the path) must leave a keep-alive connection usable — the unread body drained — or say
//! `Connection: close`. Each case sends its request with a body on a raw HTTP/1.1 connection, then
//! a normal request on the same connection.
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::api_keys::create_with;
use crate::both;
use crate::support::{Auth, TestApp};

/// One HTTP/1.1 connection, written and read by hand so the test sees exactly what a pooled
/// client sees.
struct Conn {
    reader: Reader,
    writer: OwnedWriteHalf,
}

struct Reader {
    half: OwnedReadHalf,
    buf: Vec<u8>,
}

#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
}

impl RawResponse {
    fn closes(&self) -> bool {
        self.headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"))
    }
}

/// `head` (lines ending in `\n`) and `body` as bytes on the wire.
fn request_bytes(head: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = head.replace('\n', "\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

impl Conn {
    async fn open(t: &TestApp) -> Conn {
        Conn::to(&t.base).await
    }

    /// A connection to the server at `base` (`http://host:port`).
    async fn to(base: &str) -> Conn {
        let addr = base.trim_start_matches("http://");
        let (half, writer) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        Conn {
            reader: Reader {
                half,
                buf: Vec::new(),
            },
            writer,
        }
    }

    async fn send(&mut self, head: &str, body: &[u8]) {
        let bytes = request_bytes(head, body);
        self.writer.write_all(&bytes).await.expect("write");
    }

    async fn response(&mut self) -> Option<RawResponse> {
        self.reader.response().await
    }
}

impl Reader {
    /// Reads more bytes; false at end of stream (or a reset).
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.half.read(&mut chunk),
        )
        .await
        .expect("the server answered within 10 s");
        match read {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// The next response (its body read and dropped), or `None` when the server closed the
    /// connection before sending one.
    async fn response(&mut self) -> Option<RawResponse> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill().await {
                assert!(self.buf.is_empty(), "cut-off response: {:?}", self.buf);
                return None;
            }
        };
        let head = String::from_utf8(self.buf.drain(..end).collect()).expect("ascii head");
        let mut lines = head.split("\r\n");
        let status = lines.next().expect("status line")[9..12]
            .parse()
            .expect("status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            while !self.buf.windows(5).any(|w| w == b"0\r\n\r\n") {
                assert!(self.fill().await, "cut-off chunked body");
            }
            let at = self
                .buf
                .windows(5)
                .position(|w| w == b"0\r\n\r\n")
                .unwrap_or(0);
            self.buf.drain(..at + 5);
        } else {
            let len: usize = header("content-length").map_or(0, |v| v.parse().expect("length"));
            while self.buf.len() < len {
                assert!(self.fill().await, "cut-off body");
            }
            self.buf.drain(..len);
        }
        Some(RawResponse { status, headers })
    }
}

fn auth_header(auth: &Auth) -> String {
    match auth {
        Auth::Session(s) => format!("X-Metabase-Session: {s}\n"),
        Auth::Key(k) => format!("X-Api-Key: {k}\n"),
        Auth::None => String::new(),
        other => panic!("not used here: {other:?}"),
    }
}

/// `method path` with `auth` and a JSON body of `len` bytes (`Content-Length`).
fn with_body(method: &str, path: &str, auth: &Auth, len: usize) -> (String, Vec<u8>) {
    let mut body = br#"{"name":""#.to_vec();
    body.resize(len.saturating_sub(2), b'x');
    body.extend_from_slice(b"\"}");
    let head = format!(
        "{method} {path} HTTP/1.1\nHost: localhost\n{}Content-Type: application/json\n\
         Content-Length: {}\n",
        auth_header(auth),
        body.len()
    );
    (head, body)
}

/// The early answer has `status` and keeps the connection: the next request on it is served.
async fn early_answer_keeps_connection(t: &TestApp, head: &str, body: &[u8], status: u16) {
    let mut c = Conn::open(t).await;
    c.send(head, body).await;
    let first = c.response().await.expect("a response");
    assert_eq!(first.status, status, "{head}");
    assert!(!first.closes(), "{head}: {:?}", first.headers);
    c.send("GET /api/health HTTP/1.1\nHost: localhost\n", b"")
        .await;
    let next = c
        .response()
        .await
        .unwrap_or_else(|| panic!("{head}: the connection was closed after {status}"));
    assert_eq!(next.status, 200, "{head}");
}

both!(
    early_answers_with_a_body_keep_the_connection,
    |t| async move {
        let admin = t.setup().await;
        let read_only = create_with(
            &t,
            &admin,
            json!({"name": "ro", "group_id": 2, "restrictions": {"access": "read-only"}}),
        )
        .await
        .auth();
        let slow = create_with(
            &t,
            &admin,
            json!({"name": "slow", "group_id": 2,
               "restrictions": {"rate_limit": {"requests": 1, "per_seconds": 3600}}}),
        )
        .await
        .auth();
        t.get("/api/user/current", &slow).await.assert(200);

        let cases: [(&str, &str, &Auth, u16); 6] = [
            // Unrouted, with a body (the reported case).
            ("GET", "/api/dashboard/1/items", &admin, 404),
            ("POST", "/api/dashboard/1/cards", &admin, 404),
            // No credentials.
            ("POST", "/api/card", &Auth::None, 401),
            // A read-only key on a writing route: refused before the body is read.
            ("POST", "/api/user", &read_only, 403),
            // Over the key's own rate limit.
            ("POST", "/api/card", &slow, 429),
            // A path parameter refused before the body is read.
            ("PUT", "/api/api-key/0", &admin, 400),
        ];
        for (method, path, auth, status) in cases {
            for len in [2, 100 * 1024] {
                let (head, body) = with_body(method, path, auth, len);
                early_answer_keeps_connection(&t, &head, &body, status).await;
            }
        }

        // A chunked body, unread: drained too.
        let head = "POST /api/card HTTP/1.1\nHost: localhost\nContent-Type: application/json\n\
                Transfer-Encoding: chunked\n";
        early_answer_keeps_connection(&t, head, b"2\r\n{}\r\n0\r\n\r\n", 401).await;
    }
);

both!(
    an_undrainable_body_is_answered_with_connection_close,
    |t| async move {
        t.setup().await;
        // 413: declared far over every bound, and only the start of it is sent.
        let (head, _) = with_body("POST", "/api/card", &Auth::None, 8 * 1024 * 1024);
        let mut c = Conn::open(&t).await;
        c.send(&head, &[b'x'; 1024]).await;
        let first = c.response().await.expect("a response");
        assert!(first.closes(), "{:?}", first.headers);
        assert!(
            c.response().await.is_none(),
            "the server closes what it announced"
        );

        // A body larger than the drain bound behind an early 401, written while the answer is
        // read: the answer says `close`, and the server then closes.
        let (head, body) = with_body("POST", "/api/card", &Auth::None, 600 * 1024);
        let Conn {
            mut reader,
            mut writer,
        } = Conn::open(&t).await;
        let bytes = request_bytes(&head, &body);
        let (_, first) = tokio::join!(
            // The server may stop reading and close; a failed write is expected then.
            async { writer.write_all(&bytes).await.is_ok() },
            reader.response()
        );
        let first = first.expect("a response");
        assert_eq!(first.status, 401);
        assert!(first.closes(), "{:?}", first.headers);
        assert!(reader.response().await.is_none());
    }
);

/// Sends one byte of a request head every 300 ms until the server closes the connection;
/// returns how many bytes it got out (the server cannot be held open by a trickle).
async fn slowloris(base: String) -> usize {
    let Conn {
        mut reader,
        mut writer,
    } = Conn::to(&base).await;
    let head = b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    let mut sent = 0;
    loop {
        let byte = head.get(sent).copied().unwrap_or(b'a');
        if writer.write_all(&[byte]).await.is_err() {
            return sent;
        }
        sent += 1;
        tokio::select! {
            open = reader.fill() => if !open { return sent },
            _ = tokio::time::sleep(std::time::Duration::from_millis(300)) => {}
        }
    }
}

both!(
    idle_and_trickling_connections_are_closed_after_the_idle_timeout,
    config = |c: &mut ferrobase::config::Config| c.idle_timeout = std::time::Duration::from_secs(2),
    |t| async move {
        t.setup().await;
        // A connection that never sends anything, and one idle after a response.
        let mut silent = Conn::open(&t).await;
        let mut used = Conn::open(&t).await;
        used.send("GET /api/health HTTP/1.1\nHost: localhost\n", b"")
            .await;
        assert_eq!(used.response().await.expect("a response").status, 200);
        let trickle = tokio::spawn(slowloris(t.base.clone()));
        assert!(silent.response().await.is_none(), "closed while silent");
        assert!(used.response().await.is_none(), "closed while idle");
        // 2 s at ~3 bytes a second: far short of the endless head it was sending.
        let sent = trickle.await.expect("slowloris task");
        assert!(sent < 60, "the trickle was cut off ({sent} bytes)");
    }
);

both!(slow_and_idle_clients_do_not_stop_others, |t| async move {
    let admin = t.setup().await;
    // 1,000 idle keep-alive connections (half of them after one request) and a slowloris.
    let mut idle = Vec::new();
    for i in 0..1000 {
        let mut c = Conn::open(&t).await;
        if i % 2 == 0 {
            c.send("GET /api/health HTTP/1.1\nHost: localhost\n", b"")
                .await;
            assert_eq!(c.response().await.expect("a response").status, 200);
        }
        idle.push(c);
    }
    let trickle = tokio::spawn(slowloris(t.base.clone()));
    // Everyone else is served, on new connections and on the idle ones.
    for _ in 0..20 {
        t.get("/api/user/current", &admin).await.assert(200);
    }
    for c in idle.iter_mut().step_by(100) {
        c.send("GET /api/health HTTP/1.1\nHost: localhost\n", b"")
            .await;
        assert_eq!(c.response().await.expect("still open").status, 200);
    }
    trickle.abort();
});
