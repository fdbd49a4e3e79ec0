//! One request to the daemon over its Unix socket (hyperlocal), with the
//! protocol check every response gets.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyperlocal::{UnixClientExt, UnixConnector, Uri};
use serde::de::DeserializeOwned;
use skilld_proto::{ErrorResponse, PROTOCOL, PROTOCOL_HEADER};

use crate::error::ClientError;

/// A connection-pooling client bound to one socket.
pub struct Conn {
    socket: PathBuf,
    client: Client<UnixConnector, Full<Bytes>>,
}

/// A successful answer: the raw JSON body.
#[derive(Debug)]
pub struct Answer {
    pub body: Bytes,
}

impl Answer {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ClientError::Other(format!("cannot understand the daemon's answer: {e}")))
    }
}

/// Whether connecting failed because nothing listens on the socket.
pub fn is_not_running(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                ErrorKind::NotFound | ErrorKind::ConnectionRefused
            );
        }
        source = e.source();
    }
    false
}

/// Whether a daemon accepts connections on `socket`.
pub fn answers(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

enum SendError {
    NotRunning,
    Failed(ClientError),
}

impl Conn {
    pub fn new(socket: PathBuf) -> Conn {
        Conn {
            socket,
            client: Client::unix(),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Send a request; `Ok(None)` when no daemon listens.
    pub async fn try_send(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Option<Answer>, ClientError> {
        match self.send_inner(method, route, body).await {
            Ok(answer) => Ok(Some(answer)),
            Err(SendError::NotRunning) => Ok(None),
            Err(SendError::Failed(e)) => Err(e),
        }
    }

    /// Send a request to a daemon that must be running.
    pub async fn send(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ClientError> {
        self.try_send(method, route, body)
            .await?
            .ok_or_else(|| ClientError::NotRunning {
                socket: self.socket.clone(),
            })
    }

    async fn send_inner(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, SendError> {
        let response = self.send_raw(method, route, body).await?;
        let body = collect(response).await?;
        Ok(Answer { body })
    }

    /// Send a request whose answer is read incrementally (NDJSON); `Ok(None)`
    /// when no daemon listens. Error statuses become errors here.
    pub async fn try_send_streaming(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Option<hyper::Response<hyper::body::Incoming>>, ClientError> {
        match self.send_raw(method, route, body).await {
            Ok(response) => Ok(Some(response)),
            Err(SendError::NotRunning) => Ok(None),
            Err(SendError::Failed(e)) => Err(e),
        }
    }

    async fn send_raw(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, SendError> {
        let uri: hyper::Uri = Uri::new(&self.socket, route).into();
        let mut builder = Request::builder().method(method).uri(uri);
        if body.is_some() {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| {
                SendError::Failed(ClientError::Other(format!("cannot build request: {e}")))
            })?;
        let response = match self.client.request(request).await {
            Ok(response) => response,
            Err(e) if is_not_running(&e) => return Err(SendError::NotRunning),
            Err(e) => {
                return Err(SendError::Failed(ClientError::Other(format!(
                    "cannot talk to skilld on {}: {}",
                    self.socket.display(),
                    chain(&e)
                ))));
            }
        };
        self.check_protocol(response.headers())
            .map_err(SendError::Failed)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = collect(response).await?;
        Err(SendError::Failed(
            match serde_json::from_slice::<ErrorResponse>(&body) {
                Ok(parsed) => ClientError::Daemon {
                    body: parsed.error,
                    raw: body.to_vec(),
                },
                Err(_) => ClientError::Other(format!(
                    "the daemon answered {status} with an unexpected body: {}",
                    String::from_utf8_lossy(&body)
                )),
            },
        ))
    }

    fn check_protocol(&self, headers: &hyper::HeaderMap) -> Result<(), ClientError> {
        let theirs = headers.get(PROTOCOL_HEADER).and_then(|v| v.to_str().ok());
        match theirs {
            Some(v) if v == PROTOCOL.to_string() => Ok(()),
            other => Err(ClientError::ProtocolMismatch {
                daemon: other
                    .unwrap_or("unknown (no skilld-protocol header)")
                    .to_string(),
                socket: self.socket.clone(),
            }),
        }
    }
}

/// The whole body of a response.
async fn collect(response: hyper::Response<hyper::body::Incoming>) -> Result<Bytes, SendError> {
    Ok(response
        .into_body()
        .collect()
        .await
        .map_err(|e| {
            SendError::Failed(ClientError::Other(format!(
                "the daemon's answer broke off: {e}"
            )))
        })?
        .to_bytes())
}

/// An error and its causes on one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}
