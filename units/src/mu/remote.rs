//! Handing a signed item to the SU that schedules its process: `POST {su-url}` with the raw item,
//! as AO's MU does, following a 307 to the owner.
//!
//! Every answer is typed by what the caller does about it: accepted (the remote SU committed the
//! item), already there (a duplicate id: delivered before), refused (the item's fault: give up)
//! or unreachable (the network's or the peer's: try again later).

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

/// How a remote SU answered a forwarded item.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// The item is in the remote log already (the remote SU refused its id as a duplicate).
    #[error("the scheduler at {url} has it already")]
    Duplicate { url: String },
    /// The remote SU refused the item for what it is; sending it again changes nothing.
    #[error("the scheduler at {url} refused it ({status}): {why}")]
    Refused {
        url: String,
        status: u16,
        why: String,
    },
    /// No answer, or the remote SU failed (5xx): it may go through later.
    #[error("the scheduler at {url} cannot be reached: {why}")]
    Unreachable { url: String, why: String },
}

/// Where a forwarded item landed, as the remote SU says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAck {
    pub id: String,
    pub process: String,
    pub slot: u64,
}

/// The HTTP side of routing. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Remote {
    pub(super) http: reqwest::Client,
}

impl Default for Remote {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self { http }
    }
}

impl Remote {
    /// `POST` (`start`) or `DELETE {mu_url}/monitor/{process}` with the signed request, as the
    /// client sent it here; `Ok` once the owner's messenger took it.
    pub async fn relay_monitor(
        &self,
        mu_url: &str,
        process: &str,
        start: bool,
        request: &[u8],
    ) -> Result<(), ForwardError> {
        let url = format!("{}/monitor/{process}", mu_url.trim_end_matches('/'));
        let method = if start {
            reqwest::Method::POST
        } else {
            reqwest::Method::DELETE
        };
        let response = self
            .http
            .request(method, &url)
            .header("content-type", "application/octet-stream")
            .body(request.to_vec())
            .send()
            .await
            .map_err(|e| ForwardError::Unreachable {
                url: url.clone(),
                why: e.to_string(),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let why = serde_json::from_value::<crate::api::ApiError>(body.clone())
            .map_or_else(|_| body.to_string(), |e| e.error);
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(ForwardError::Unreachable {
                url,
                why: format!("{status}: {why}"),
            });
        }
        Err(ForwardError::Refused {
            url,
            status: status.as_u16(),
            why,
        })
    }

    /// `POST {su_url}` with the signed item's bytes; `Ok` once the remote SU committed it.
    pub async fn forward(&self, su_url: &str, item: &[u8]) -> Result<RemoteAck, ForwardError> {
        let url = su_url.trim_end_matches('/').to_owned();
        let unreachable = |why: String| ForwardError::Unreachable {
            url: url.clone(),
            why,
        };
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/octet-stream")
            .body(item.to_vec())
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let why = || {
            serde_json::from_value::<crate::api::ApiError>(body.clone())
                .map_or_else(|_| body.to_string(), |e| e.error)
        };
        if status == reqwest::StatusCode::CONFLICT {
            return Err(ForwardError::Duplicate { url });
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(unreachable(format!("{status}: {}", why())));
        }
        if !status.is_success() {
            return Err(ForwardError::Refused {
                url,
                status: status.as_u16(),
                why: why(),
            });
        }
        match serde_json::from_value::<crate::api::Submitted>(body.clone()) {
            Ok(ack) => Ok(RemoteAck {
                id: ack.id,
                process: ack.process,
                slot: ack.slot,
            }),
            Err(_) => Err(unreachable(format!(
                "an answer without id/process/slot: {body}"
            ))),
        }
    }
}
