//! A process's result for one message (DESIGN.md §4): built once from the VM's `Outcome`, stored
//! by the CU, read by the MU's crank, served by HTTP and shown by the shell — one type, so "did it
//! fail", "what did it print" and "what does it send" are each decided in one place.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What evaluating one message (or cron tick) produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessResult {
    /// What the eval printed or returned: `{data, prompt, print}` from our module, any value from
    /// others.
    #[serde(rename = "Output", default)]
    pub output: Value,
    /// Messages the process sent, each `{Target, Tags, Data, Anchor?}`.
    #[serde(rename = "Messages", default)]
    pub messages: Vec<Value>,
    /// Processes it spawned, each `{Tags, Data}`.
    #[serde(rename = "Spawns", default)]
    pub spawns: Vec<Value>,
    /// Messages it assigned to other processes, each `{Processes, Message}`.
    #[serde(rename = "Assignments", default)]
    pub assignments: Vec<Value>,
    /// `patch@1.0` sends: the keys the process publishes.
    #[serde(rename = "Patches", default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Value>,
    /// Present (whatever its value) exactly when the message failed and left no trace.
    #[serde(
        rename = "Error",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub error: Option<Value>,
    #[serde(rename = "GasUsed", default)]
    pub gas_used: u64,
    /// Whatever else a module put in its result, kept as it was.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Error: null` in a result JSON means no error; any other value (even `""`) is one.
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Value>, D::Error> {
    Ok(match Value::deserialize(de)? {
        Value::Null => None,
        other => Some(other),
    })
}

/// A result JSON that is not a result object.
#[derive(Debug, thiserror::Error)]
#[error("the result is not a result object: {0}")]
pub struct ResultError(String);

impl ProcessResult {
    /// The result of an evaluation. The VM's verdict is final: a message it failed has an
    /// `Error` here even if the module's JSON named none, and one it passed has none.
    pub fn from_outcome(outcome: &aos_vm::Outcome) -> Result<Self, ResultError> {
        let mut result = Self::from_json(outcome.result_json())?;
        match outcome.error() {
            Some(error) if result.error.is_none() => result.error = Some(error.into()),
            Some(_) => {}
            None => result.error = None,
        }
        result.gas_used = outcome.gas_used();
        Ok(result)
    }

    pub fn from_json(json: &str) -> Result<Self, ResultError> {
        serde_json::from_str(json).map_err(|e| ResultError(e.to_string()))
    }

    /// A result read back as JSON (from the store or over HTTP).
    pub fn from_value(value: Value) -> Result<Self, ResultError> {
        serde_json::from_value(value).map_err(|e| ResultError(e.to_string()))
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a result serialises")
    }

    /// Whether the message failed: its state change was rolled back and nothing it sent goes out.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The error as text, if the message failed.
    pub fn error_text(&self) -> Option<String> {
        self.error.as_ref().map(|error| match error {
            Value::String(text) if text.is_empty() => "error (with an empty message)".to_owned(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }

    /// The text the Output shows: `data` as text, tables as JSON.
    pub fn output_text(&self) -> String {
        let data = match &self.output {
            Value::Object(map) => map.get("data").unwrap_or(&Value::Null),
            other => other,
        };
        match data {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            Value::Object(map) if map.contains_key("output") => match &map["output"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
            other => serde_json::to_string_pretty(other).unwrap_or_default(),
        }
    }

    /// Whether the process printed (rather than returned) its Output: a notice for the live feed.
    pub fn printed(&self) -> bool {
        self.output.get("print").and_then(Value::as_bool) == Some(true)
    }

    /// The prompt the Output carries, if any.
    pub fn prompt(&self) -> Option<&str> {
        self.output.get("prompt").and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn any_error_value_but_null_is_a_failure() {
        for error in [json!(""), json!({}), json!("boom"), json!(false)] {
            let result = ProcessResult::from_value(json!({"Output": "", "Error": error})).unwrap();
            assert!(result.failed(), "{error}");
            assert!(!result.error_text().unwrap().is_empty(), "{error}");
        }
        for body in [json!({"Output": ""}), json!({"Output": "", "Error": null})] {
            assert!(!ProcessResult::from_value(body).unwrap().failed());
        }
    }

    #[test]
    fn a_result_round_trips_with_fields_it_does_not_know() {
        let body = json!({
            "Output": {"data": "hi", "print": true, "prompt": "p> "},
            "Messages": [{"Target": "x", "Tags": [], "Data": "d"}],
            "Spawns": [],
            "Assignments": [],
            "GasUsed": 7,
            "Custom": [1, 2],
        });
        let result = ProcessResult::from_value(body.clone()).unwrap();
        assert_eq!(result.to_value(), body);
        assert!(result.printed());
        assert_eq!(result.prompt(), Some("p> "));
        assert_eq!(result.output_text(), "hi");
        assert_eq!(result.messages.len(), 1);
    }

    #[test]
    fn output_text_shows_data_tables_as_json_and_other_modules_outputs_as_they_are() {
        let of = |output: Value| {
            ProcessResult::from_value(json!({ "Output": output }))
                .unwrap()
                .output_text()
        };
        assert_eq!(of(json!({"data": {"output": "x"}})), "x");
        assert_eq!(of(json!({"data": {"a": 1}})), "{\n  \"a\": 1\n}");
        assert_eq!(of(json!("plain")), "plain");
        assert_eq!(of(Value::Null), "");
    }

    #[test]
    fn a_result_that_is_not_an_object_is_refused() {
        assert!(ProcessResult::from_json("[1]").is_err());
        assert!(ProcessResult::from_json("not json").is_err());
    }
}
