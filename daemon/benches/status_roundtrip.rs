//! Socket round-trip benchmark: `GET /v1/status` against an in-process
//! skilld, beside a minimal hyper server on a Unix socket answering a body of
//! the same size (the floor), in the same run and the same runtime.
//!
//! Run: `cargo bench -p skilld --bench status_roundtrip`
//! (`-- --requests N` to change the requests per client, default 20000).
//! Prints median and p99 latency and requests/s with 1 and 16 concurrent
//! keep-alive clients, and skilld's ratio to the floor.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use skilld::proto::paths::{Overrides, Paths, ProcessEnv};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

struct Figures {
    median: Duration,
    p99: Duration,
    rps: f64,
}

/// Start the floor: a hyper server answering every request with `body`.
fn start_floor(path: &Path, body: Bytes) {
    let listener = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        let mut r = Response::new(Full::new(body));
                        r.headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// One keep-alive client doing `n` sequential requests; its latencies.
async fn client(path: PathBuf, n: usize) -> Vec<Duration> {
    let stream = UnixStream::connect(&path).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let req = Request::get("/v1/status")
            .header("host", "skilld")
            .body(Empty::<Bytes>::new())
            .unwrap();
        sender.ready().await.unwrap();
        let start = Instant::now();
        let response = sender.send_request(req).await.unwrap();
        assert!(response.status().is_success());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        latencies.push(start.elapsed());
        assert!(!body.is_empty());
    }
    latencies
}

async fn measure(path: &Path, clients: usize, per_client: usize) -> Figures {
    // Warm up connections, caches and the allocator.
    client(path.to_path_buf(), 200).await;
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client(path.to_path_buf(), per_client)))
        .collect();
    let mut all = Vec::with_capacity(clients * per_client);
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let wall = start.elapsed();
    all.sort_unstable();
    Figures {
        median: all[all.len() / 2],
        p99: all[all.len() * 99 / 100],
        rps: all.len() as f64 / wall.as_secs_f64(),
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let mut requests = 20_000usize;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--requests") {
        requests = args[i + 1].parse().expect("--requests N");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            home: Some(dir.path().join("home")),
            ..Overrides::default()
        };
        let paths = Paths::resolve(&overrides, &ProcessEnv).unwrap();
        let mut config = skilld::Config::with_defaults(paths);
        config.limits.max_connections = 64;
        let socket = config.paths.socket.clone();
        let bound = skilld::bind(&config).unwrap();
        let token = CancellationToken::new();
        let daemon = tokio::spawn(skilld::run(config, bound, token.clone()));

        // The floor answers with a body as large as the daemon's.
        let status_body = {
            let probe = client_body(&socket).await;
            Bytes::from(probe)
        };
        let floor = dir.path().join("floor.sock");
        start_floor(&floor, status_body.clone());

        println!(
            "GET /v1/status over a Unix socket, {} byte body, {requests} requests per client",
            status_body.len()
        );
        println!();
        println!("| clients | server | median | p99 | req/s | vs floor (req/s) |");
        println!("|---|---|---|---|---|---|");
        for clients in [1usize, 16] {
            let per_client = (requests / clients).max(100);
            let floor_figures = measure(&floor, clients, per_client).await;
            let daemon_figures = measure(&socket, clients, per_client).await;
            for (name, f) in [("hyper floor", &floor_figures), ("skilld", &daemon_figures)] {
                println!(
                    "| {clients} | {name} | {} | {} | {:.0} | {:.2}x |",
                    micros(f.median),
                    micros(f.p99),
                    f.rps,
                    floor_figures.rps / f.rps
                );
            }
        }
        token.cancel();
        drop(daemon.await.unwrap().unwrap());
    });
}

/// One status body, to size the floor's answer like the daemon's.
async fn client_body(path: &Path) -> Vec<u8> {
    let stream = UnixStream::connect(path).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get("/v1/status")
        .header("host", "skilld")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(req).await.unwrap();
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}
