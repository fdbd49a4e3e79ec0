//! The NDJSON streaming response for long operations: progress frames, then
//! one final `result` or `error` frame (see `skilld_proto::stream`).
//!
//! The handler gets a [`StreamSender`] and returns the response at once; the
//! work runs in a task and writes frames as it goes. Progress frames are
//! dropped when the client reads slower than the work advances (the next one
//! supersedes them), so a slow client never slows the daemon; the final frame
//! is always delivered while the client is connected.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Response;
use hyper::body::{Body, Frame as BodyFrame};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use skilld_proto::stream::{Frame, NDJSON, Progress};
use tokio::sync::mpsc;

use super::{ApiBody, ApiError};

/// Frames buffered before progress frames start being dropped.
const BUFFER: usize = 64;

/// The body of a streaming response: lines from a channel.
#[derive(Debug)]
pub struct NdjsonBody {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for NdjsonBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, Infallible>>> {
        self.rx
            .poll_recv(cx)
            .map(|line| line.map(|l| Ok(BodyFrame::data(l))))
    }
}

/// Writes the frames of one streaming response whose result is a `T`.
/// Clones share the stream (progress may come from a blocking thread).
#[derive(Debug)]
pub struct StreamSender<T> {
    tx: mpsc::Sender<Bytes>,
    result: PhantomData<fn(T)>,
}

impl<T> Clone for StreamSender<T> {
    fn clone(&self) -> Self {
        StreamSender {
            tx: self.tx.clone(),
            result: PhantomData,
        }
    }
}

fn line<T: Serialize>(frame: &Frame<T>) -> Bytes {
    let mut bytes = serde_json::to_vec(frame).unwrap_or_else(|e| {
        format!(r#"{{"type":"error","error":{{"code":"internal","message":"cannot encode frame: {e}"}}}}"#)
            .into_bytes()
    });
    bytes.push(b'\n');
    Bytes::from(bytes)
}

impl<T: Serialize> StreamSender<T> {
    /// Report progress; returns `false` once the client has gone away, so
    /// the work can stop early.
    pub fn progress(&self, progress: Progress) -> bool {
        match self.tx.try_send(line::<T>(&Frame::Progress(progress))) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// A progress callback for work that reports through a plain `Fn`.
    pub fn reporter(&self) -> impl Fn(Progress) + Send + Sync + 'static
    where
        T: 'static,
    {
        let tx = self.clone();
        move |p| {
            tx.progress(p);
        }
    }

    /// Send the final frame and end the stream.
    pub async fn finish(self, outcome: Result<T, ApiError>) {
        let frame = match outcome {
            Ok(value) => Frame::Result { value },
            Err(ApiError(error)) => Frame::Error { error },
        };
        // A closed channel means the client left; nothing more to do.
        let _ = self.tx.send(line(&frame)).await;
    }
}

/// A raw NDJSON response: whatever lines are sent, until the sender drops.
pub fn lines(buffer: usize) -> (mpsc::Sender<Bytes>, Response<ApiBody>) {
    let (tx, rx) = mpsc::channel(buffer);
    let mut response = Response::new(NdjsonBody { rx }.boxed());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    (tx, response)
}

/// A streaming response and the sender that feeds it.
pub fn ndjson<T: Serialize>() -> (StreamSender<T>, Response<ApiBody>) {
    let (tx, rx) = mpsc::channel(BUFFER);
    let mut response = Response::new(NdjsonBody { rx }.boxed());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    (
        StreamSender {
            tx,
            result: PhantomData,
        },
        response,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use skilld_proto::ErrorCode;

    fn progress(current: u64) -> Progress {
        Progress {
            phase: "test".into(),
            current,
            total: Some(3),
            unit: Some("blobs".into()),
            message: None,
            item: None,
        }
    }

    async fn frames(response: Response<ApiBody>) -> Vec<Frame<u32>> {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn progress_then_result() {
        let (tx, response) = ndjson::<u32>();
        assert_eq!(response.headers()[CONTENT_TYPE], NDJSON);
        tokio::spawn(async move {
            for i in 1..=3 {
                assert!(tx.progress(progress(i)));
            }
            tx.finish(Ok(7)).await;
        });
        let frames = frames(response).await;
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[2], Frame::Progress(progress(3)));
        assert_eq!(frames[3], Frame::Result { value: 7 });
    }

    #[tokio::test]
    async fn error_is_the_final_frame() {
        let (tx, response) = ndjson::<u32>();
        tokio::spawn(tx.finish(Err(ApiError::new(ErrorCode::NotFound, "gone"))));
        let frames = frames(response).await;
        assert_eq!(frames.len(), 1);
        assert!(matches!(&frames[0], Frame::Error { error } if error.code == ErrorCode::NotFound));
    }

    #[tokio::test]
    async fn slow_reader_drops_progress_not_the_result() {
        let (tx, response) = ndjson::<u32>();
        // Nobody reads while 10x the buffer of progress is sent: no blocking.
        for i in 0..(BUFFER as u64 * 10) {
            assert!(tx.progress(progress(i)));
        }
        let finish = tokio::spawn(tx.finish(Ok(1)));
        let frames = frames(response).await;
        finish.await.unwrap();
        assert_eq!(frames.len(), BUFFER + 1);
        assert_eq!(frames.last(), Some(&Frame::Result { value: 1 }));
    }

    #[tokio::test]
    async fn progress_reports_a_departed_client() {
        let (tx, response) = ndjson::<u32>();
        drop(response);
        assert!(!tx.progress(progress(1)));
    }
}
