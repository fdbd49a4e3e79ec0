//! What every command gets: the parsed flags, the paths, the connection, and
//! helpers to send a request (starting the daemon first when none answers)
//! and to print for a person or, with `--json`, for a script.

use std::io::Write;

use hyper::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use skilld_proto::Paths;

use crate::autostart;
use crate::cli::Cli;
use crate::conn::{Answer, Conn};
use crate::error::ClientError;
use crate::stream::{ProgressView, read_final};

pub struct Ctx {
    pub cli: Cli,
    pub paths: Paths,
    pub conn: Conn,
}

impl Ctx {
    /// Print a line for a person unless `--quiet` or `--json`.
    pub fn say(&self, line: impl std::fmt::Display) {
        if !self.cli.quiet && !self.cli.json {
            println!("{line}");
        }
    }

    /// Whether output is for a person (not `--json`, not `-q`).
    pub fn human(&self) -> bool {
        !self.cli.quiet && !self.cli.json
    }

    async fn start_daemon(&self) -> Result<(), ClientError> {
        if self.cli.no_autostart {
            return Err(ClientError::NotRunning {
                socket: self.conn.socket().to_path_buf(),
            });
        }
        if let Some(pid) = autostart::ensure_running(&self.paths)?
            && self.human()
        {
            eprintln!("skillc: started skilld (pid {pid})");
        }
        Ok(())
    }

    /// Send a request, starting the daemon first when none answers.
    pub async fn request(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ClientError> {
        if let Some(answer) = self
            .conn
            .try_send(method.clone(), route, body.clone())
            .await?
        {
            return Ok(answer);
        }
        self.start_daemon().await?;
        self.conn.send(method, route, body).await
    }

    /// GET `route` and parse the answer.
    pub async fn get<R: DeserializeOwned>(&self, route: &str) -> Result<(R, Answer), ClientError> {
        let answer = self.request(Method::GET, route, None).await?;
        Ok((answer.parse()?, answer))
    }

    /// POST `body` as JSON to `route` and parse the answer.
    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<(R, Answer), ClientError> {
        let bytes = encode(body)?;
        let answer = self.request(Method::POST, route, Some(bytes)).await?;
        Ok((answer.parse()?, answer))
    }

    /// POST to a streaming route: draw progress, return the final result.
    pub async fn post_streaming<B: Serialize, R: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<(R, Answer), ClientError> {
        let bytes = encode(body)?;
        let response = match self
            .conn
            .try_send_streaming(Method::POST, route, Some(bytes.clone()))
            .await?
        {
            Some(response) => response,
            None => {
                self.start_daemon().await?;
                self.conn
                    .try_send_streaming(Method::POST, route, Some(bytes))
                    .await?
                    .ok_or_else(|| ClientError::NotRunning {
                        socket: self.conn.socket().to_path_buf(),
                    })?
            }
        };
        let mut bar = ProgressView::new(self.cli.quiet || self.cli.json);
        let raw = read_final(response.into_body(), &mut bar).await?;
        let answer = Answer { body: raw.into() };
        Ok((answer.parse()?, answer))
    }

    /// GET a route whose answer is read incrementally.
    pub async fn get_streaming(
        &self,
        route: &str,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        if let Some(response) = self
            .conn
            .try_send_streaming(Method::GET, route, None)
            .await?
        {
            return Ok(response);
        }
        self.start_daemon().await?;
        self.conn
            .try_send_streaming(Method::GET, route, None)
            .await?
            .ok_or_else(|| ClientError::NotRunning {
                socket: self.conn.socket().to_path_buf(),
            })
    }

    /// Print the daemon's JSON exactly as sent.
    pub fn print_json(&self, answer: &Answer) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&answer.body);
        let _ = out.write_all(b"\n");
    }
}

fn encode<B: Serialize>(body: &B) -> Result<Vec<u8>, ClientError> {
    serde_json::to_vec(body)
        .map_err(|e| ClientError::Other(format!("cannot encode the request: {e}")))
}
