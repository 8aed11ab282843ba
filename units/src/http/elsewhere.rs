//! The compute unit's answer about a process another node schedules: this node cannot compute it
//! yet (computing any process anywhere is issue 14's item 5), so it sends the client to the
//! owner's CU with a 307 — the path and query as asked, under the owner's node URL. A process
//! nobody is known to schedule goes on to the CU's own routes, which say it is unknown.

use warp::Filter;
use warp::filters::path::FullPath;
use warp::reply::Response;

use super::reply;
use crate::mu::Messenger;
use crate::store::ProcessId;

/// Matches `/cu/{result,results,cron,state,patch,dry-run}` requests for a process scheduled on
/// another node; anything else is rejected (not found) for the next route to take.
pub fn cu_redirect(
    mu: Messenger,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::path::full()
        .and(raw_query)
        .and_then(move |path: FullPath, query: String| {
            let mu = mu.clone();
            async move {
                let Some(process) = process_in(path.as_str(), &query) else {
                    return Err(warp::reject::not_found());
                };
                let Some(su_url) = mu.owner_url(&process).await else {
                    return Err(warp::reject::not_found());
                };
                let root = su_url.strip_suffix("/su").unwrap_or(&su_url);
                let mut url = format!("{root}{}", path.as_str());
                if !query.is_empty() {
                    url = format!("{url}?{query}");
                }
                Ok(reply::redirect(
                    &url,
                    format!(
                        "process {process} is scheduled by another node; this node cannot \
                         compute it yet, its own compute unit can: {root}/cu"
                    ),
                ))
            }
        })
}

/// The process a CU request is about: in the path, or in `process-id`.
fn process_in(path: &str, query: &str) -> Option<ProcessId> {
    let rest = path.strip_prefix("/cu/")?;
    let mut parts = rest.split('/');
    let route = parts.next()?;
    let named = parts.next();
    let id = match (route, named) {
        ("results" | "cron" | "state" | "patch", Some(process)) => process.to_owned(),
        ("result", Some(_)) | ("dry-run", None) => query
            .split('&')
            .find_map(|kv| kv.strip_prefix("process-id="))?
            .to_owned(),
        _ => return None,
    };
    ProcessId::parse(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_comes_from_the_path_or_the_query() {
        let p = "A".repeat(43);
        let m = "B".repeat(43);
        let of = |path: &str, query: &str| process_in(path, query).map(|p| p.to_string());
        assert_eq!(of(&format!("/cu/results/{p}"), "from=1"), Some(p.clone()));
        assert_eq!(
            of(&format!("/cu/result/{m}"), &format!("process-id={p}")),
            Some(p.clone())
        );
        assert_eq!(
            of("/cu/dry-run", &format!("x=1&process-id={p}")),
            Some(p.clone())
        );
        assert_eq!(of(&format!("/cu/result/{m}"), ""), None);
        assert_eq!(of("/cu/", ""), None);
        assert_eq!(of(&format!("/su/{p}"), ""), None);
    }
}
