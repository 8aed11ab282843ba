//! The connection loop: accepts TCP connections and drives hyper's HTTP/1 server over the warp
//! routes, with the limits warp's own `serve` lacks. A client that connects and sends nothing, or
//! stops half-way through its headers or its body, is cut off after a timeout; connections beyond
//! a cap are answered 503 at once and closed, so idle sockets cannot starve the node.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tower_service::Service;
use warp::Filter;
use warp::http::{Request, StatusCode, header};
use warp::reply::Response;

use super::reply;

/// How long and how many clients may hold the node's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// A client must send a request's headers within this long of connecting or of its previous
    /// response; an idle or half-open connection is closed after it.
    pub header_timeout: Duration,
    /// The longest pause while a request body arrives; a stalled upload gets 408.
    pub body_timeout: Duration,
    /// Connections served at once. Beyond it a connection gets 503 and is closed.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

/// Serves `routes` on `listener` under `limits` until `shutdown` resolves, then lets the requests
/// in flight finish.
pub(super) async fn run<F>(
    listener: tokio::net::TcpListener,
    routes: F,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: give connections time to close.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let service = RequestService {
            routes: warp::service(routes.clone()),
            body_timeout: limits.body_timeout,
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection over the cap with a JSON 503 and closes it.
async fn refuse(mut stream: TcpStream, cap: usize) {
    let body = serde_json::json!({
        "error": format!("the node serves at most {cap} connections at once; try again shortly")
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n",
        body.len()
    );
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent before closing, or the close resets the connection and
        // the client may never see the answer.
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

/// One connection's requests: warp's routes over a body that times out when it stalls.
#[derive(Clone)]
struct RequestService<S> {
    routes: S,
    body_timeout: Duration,
}

impl<S> hyper::service::Service<Request<Incoming>> for RequestService<S>
where
    S: Service<Request<TimedBody>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let stalled = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| TimedBody {
            inner: body,
            timeout: self.body_timeout,
            deadline: None,
            stalled: stalled.clone(),
        });
        let mut routes = self.routes.clone();
        Box::pin(async move {
            let response = routes.call(request).await?;
            if !stalled.load(Ordering::SeqCst) {
                return Ok(response);
            }
            // The routes saw only a failed body; say what happened, and drop the connection
            // (the rest of the body may still come).
            let mut response = reply::error(
                StatusCode::REQUEST_TIMEOUT,
                "the request body stopped arriving",
            );
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            Ok(response)
        })
    }
}

/// A request body that fails when no part of it arrives for `timeout`.
struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    stalled: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("no part of the request body arrived for {0:?}")]
struct BodyStalled(Duration);

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.deadline = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.stalled.store(true, Ordering::SeqCst);
                        Poll::Ready(Some(Err(BodyStalled(timeout).into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
