//! Signed items and assignments back from the JSON other nodes answer with: an SU page's
//! `node.message` (`{id, owner: {key}, signature, anchor, target, tags, data}`) or a gateway's
//! GraphQL node (`recipient` for the target, `data.size` instead of the data).
//!
//! The JSON is not the signed bytes: data and anchor come as text when they are UTF-8 and as
//! base64url otherwise, and a 32-byte owner may be ed25519 or Solana. So every reading the JSON
//! allows is rebuilt and the first one whose signature verifies is the item; one that none does
//! is refused. Tags are re-encoded the way arbundles (and this node) write them, so an item whose
//! signer encoded its tags another legal Avro way cannot be rebuilt and is refused too.

use serde_json::Value;

use crate::message::{DataItem, ItemDraft, SignatureType, Tag, b64};
use crate::store::Assignment;

/// A verified item rebuilt from a page's `node.message` JSON.
pub fn item_from_message_json(json: &Value) -> Result<DataItem, String> {
    let data = match &json["data"] {
        Value::String(text) => text_or_b64(text, None),
        Value::Null => vec![Vec::new()],
        other => return Err(format!("data is not text: {other}")),
    };
    rebuild(json, &json["target"], data)
}

/// A verified item rebuilt from a GraphQL transaction node whose data is empty (the node only
/// tells the size; a Scheduler-Location's data is empty).
pub fn item_from_graphql_node(json: &Value) -> Result<DataItem, String> {
    match json["data"]["size"].as_str() {
        Some("0") | None => {}
        Some(size) => return Err(format!("expected empty data, the node says {size} bytes")),
    }
    rebuild(json, &json["recipient"], vec![Vec::new()])
}

fn rebuild(json: &Value, target: &Value, data: Vec<Vec<u8>>) -> Result<DataItem, String> {
    let owner = json["owner"]["key"]
        .as_str()
        .and_then(|k| b64::decode(k).ok())
        .ok_or("owner.key is missing or not base64url")?;
    let signature = json["signature"]
        .as_str()
        .and_then(|s| b64::decode(s).ok())
        .ok_or("signature is missing or not base64url")?;
    let target = match target.as_str() {
        None | Some("") => None,
        Some(text) => Some(b64::decode_32(text).ok_or("target is not a 43-character id")?),
    };
    let anchors: Vec<Option<[u8; 32]>> = match json["anchor"].as_str() {
        None | Some("") => vec![None],
        Some(text) => text_or_b64(text, Some(32))
            .into_iter()
            .filter_map(|a| <[u8; 32]>::try_from(a).ok().map(Some))
            .collect(),
    };
    let tags: Vec<Tag> = serde_json::from_value(json["tags"].clone())
        .map_err(|e| format!("tags are not a list of {{name, value}}: {e}"))?;
    let types: &[SignatureType] = match owner.len() {
        32 => &[SignatureType::Ed25519, SignatureType::Solana],
        512 => &[SignatureType::Arweave],
        n => {
            return Err(format!(
                "no signature scheme this node verifies has {n}-byte owners"
            ));
        }
    };
    for &kind in types {
        for anchor in &anchors {
            for data in &data {
                let draft = ItemDraft {
                    target,
                    anchor: *anchor,
                    tags: tags.clone(),
                    data: data.clone(),
                };
                let mut item =
                    DataItem::unsigned(kind, owner.clone(), draft).map_err(|e| e.to_string())?;
                item.set_signature(signature.clone())
                    .map_err(|e| e.to_string())?;
                if item.verify().is_ok() {
                    return check_id(json, item);
                }
            }
        }
    }
    Err("the signature does not verify".into())
}

fn check_id(json: &Value, item: DataItem) -> Result<DataItem, String> {
    match json["id"].as_str() {
        Some(id) if id != item.id() => {
            Err(format!("id {id} is not the signature's ({})", item.id()))
        }
        _ => Ok(item),
    }
}

/// The byte strings `text` may stand for: itself, and (when it decodes to bytes that are not
/// UTF-8, which is when a node writes base64url) its base64url decoding.
fn text_or_b64(text: &str, len: Option<usize>) -> Vec<Vec<u8>> {
    let mut out = vec![text.as_bytes().to_vec()];
    if let Ok(raw) = b64::decode(text)
        && std::str::from_utf8(&raw).is_err()
        && len.is_none_or(|len| raw.len() == len)
    {
        out.push(raw);
    }
    out
}

/// An SU page's `node.assignment` (`{tags: [{name, value}]}`) as an [`Assignment`].
pub fn assignment_from_json(json: &Value) -> Result<Assignment, String> {
    let tags: Vec<Tag> = serde_json::from_value(json["tags"].clone())
        .map_err(|e| format!("assignment tags: {e}"))?;
    let text = |name: &str| {
        tags.iter()
            .find(|t| t.name == name)
            .map(|t| t.value.clone())
            .ok_or_else(|| format!("the assignment has no {name} tag"))
    };
    let number = |name: &str| {
        text(name)?
            .parse::<u64>()
            .map_err(|_| format!("the assignment's {name} is not a number"))
    };
    Ok(Assignment {
        process: text("Process")?,
        slot: number("Nonce")?,
        message: text("Message")?,
        timestamp: number("Timestamp")?,
        block_height: number("Block-Height")?,
        epoch: number("Epoch")?,
        hash_chain: text("Hash-Chain")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Ed25519Signer, Signer};
    use serde_json::json;

    fn as_page_json(item: &DataItem) -> Value {
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap_or_else(|_| b64::encode(b));
        json!({
            "id": item.id(),
            "owner": {"address": item.owner_address(), "key": b64::encode(item.owner())},
            "signature": b64::encode(item.signature()),
            "anchor": item.anchor().map(|a| text(a)),
            "target": item.target().map(b64::encode),
            "tags": item.tags(),
            "data": text(item.data()),
        })
    }

    #[test]
    fn text_binary_and_ambiguous_fields_rebuild_to_the_signed_bytes() {
        let me = Ed25519Signer::from_secret([7; 32]);
        // "AAAA" is text and also base64url of non-UTF-8 bytes: both readings are tried.
        for data in [b"hello".to_vec(), vec![0xff, 0xfe, 0x00], b"AAAA".to_vec()] {
            let item = me
                .sign(
                    ItemDraft::new(data)
                        .tag("Type", "Message")
                        .target([1; 32])
                        .anchor([0xc3; 32]),
                )
                .unwrap();
            let rebuilt = item_from_message_json(&as_page_json(&item)).unwrap();
            assert_eq!(rebuilt.to_bytes(), item.to_bytes());
        }
    }

    #[test]
    fn an_altered_field_is_refused() {
        let me = Ed25519Signer::from_secret([7; 32]);
        let item = me
            .sign(ItemDraft::new("pay 1").tag("Type", "Message"))
            .unwrap();
        let mut json = as_page_json(&item);
        json["data"] = json!("pay 1000");
        assert!(item_from_message_json(&json).is_err());
        let mut json = as_page_json(&item);
        json["tags"][0]["value"] = json!("Process");
        assert!(item_from_message_json(&json).is_err());
    }
}
