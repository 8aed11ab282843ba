//! The Rust examples under `examples/` run here exactly as `cargo run --example` runs them.

#[allow(dead_code)] // its `main` is for `cargo run --example`; the test calls `run`
#[path = "../../examples/embedded.rs"]
mod embedded;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_example_gets_its_pong_back() {
    let dir = tempfile::tempdir().unwrap();
    let reply = embedded::run(dir.path()).await.unwrap();
    assert_eq!(reply, "pong to ping #1");
}
