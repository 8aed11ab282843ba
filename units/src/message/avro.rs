//! The tag list of a data item: an Avro `array<record{name: bytes, value: bytes}>`, written the way
//! arbundles writes it (one block, then the zero terminator; no bytes at all for an empty list).
//! Reading follows the Avro spec, so items from other writers (several blocks, negative block
//! counts with a byte size) decode too.

use super::error::ItemError;
use super::item::Tag;

/// ANS-104 limits, checked on decode and on signing.
pub const MAX_TAGS: usize = 128;
pub const MAX_TAG_NAME_BYTES: usize = 1024;
pub const MAX_TAG_VALUE_BYTES: usize = 3072;

/// Serialises `tags` (which must already satisfy the limits).
pub fn encode_tags(tags: &[Tag]) -> Vec<u8> {
    let mut out = Vec::new();
    if tags.is_empty() {
        return out;
    }
    write_long(&mut out, tags.len() as i64);
    for tag in tags {
        write_bytes(&mut out, tag.name.as_bytes());
        write_bytes(&mut out, tag.value.as_bytes());
    }
    write_long(&mut out, 0);
    out
}

/// Parses the tag bytes of an item. The whole buffer must be consumed.
pub fn decode_tags(bytes: &[u8]) -> Result<Vec<Tag>, ItemError> {
    let mut reader = Reader { bytes, pos: 0 };
    let mut tags = Vec::new();
    if bytes.is_empty() {
        return Ok(tags);
    }
    loop {
        let mut count = reader.long()?;
        if count == 0 {
            break;
        }
        if count < 0 {
            count = count
                .checked_neg()
                .ok_or(ItemError::BadTags("block count overflows"))?;
            reader.long()?; // the block's size in bytes, which we do not need
        }
        let count = usize::try_from(count).map_err(|_| ItemError::BadTags("block count"))?;
        if tags.len() + count > MAX_TAGS {
            return Err(ItemError::TooManyTags(tags.len() + count));
        }
        for _ in 0..count {
            let name = reader.string("tag name")?;
            let value = reader.string("tag value")?;
            let tag = Tag { name, value };
            tag.check()?;
            tags.push(tag);
        }
    }
    if reader.pos != bytes.len() {
        return Err(ItemError::BadTags("trailing bytes after the tag list"));
    }
    Ok(tags)
}

fn write_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    loop {
        let byte = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long(out, bytes.len() as i64);
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn long(&mut self) -> Result<i64, ItemError> {
        let mut z: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or(ItemError::BadTags("tag list ends inside a number"))?;
            self.pos += 1;
            z |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
            }
        }
        Err(ItemError::BadTags("number longer than 10 bytes"))
    }

    fn string(&mut self, what: &'static str) -> Result<String, ItemError> {
        let len = self.long()?;
        let len = usize::try_from(len).map_err(|_| ItemError::BadTags("negative length"))?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(ItemError::BadTags(
                "a tag runs past the end of the tag list",
            ))?;
        let text = std::str::from_utf8(&self.bytes[self.pos..end])
            .map_err(|_| ItemError::TagNotUtf8(what))?;
        self.pos = end;
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, value: &str) -> Tag {
        Tag::new(name, value)
    }

    #[test]
    fn empty_list_is_empty_bytes() {
        assert!(encode_tags(&[]).is_empty());
        assert_eq!(decode_tags(&[]).unwrap(), vec![]);
    }

    #[test]
    fn matches_arbundles_layout() {
        // count 1 (zigzag 2), "a" (len 1 → 2), "bc" (len 2 → 4), terminator 0
        assert_eq!(
            encode_tags(&[tag("a", "bc")]),
            vec![2, 2, b'a', 4, b'b', b'c', 0]
        );
    }

    #[test]
    fn negative_block_counts_and_several_blocks_decode() {
        // block of -1 with size 4, then a block of 1, then end
        let bytes = [1, 8, 2, b'a', 2, b'b', 2, 2, b'c', 2, b'd', 0];
        assert_eq!(
            decode_tags(&bytes).unwrap(),
            vec![tag("a", "b"), tag("c", "d")]
        );
    }

    #[test]
    fn rejects_truncation_trailing_bytes_and_limits() {
        let bytes = encode_tags(&[tag("name", "value")]);
        assert!(decode_tags(&bytes[..bytes.len() - 2]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_tags(&longer).is_err());
        let big = "x".repeat(MAX_TAG_VALUE_BYTES + 1);
        let err = decode_tags(&encode_tags(&[tag("n", &big)])).unwrap_err();
        assert!(matches!(err, ItemError::TagTooLong { .. }), "{err}");
        let many: Vec<Tag> = (0..=MAX_TAGS).map(|i| tag(&format!("t{i}"), "v")).collect();
        assert!(matches!(
            decode_tags(&encode_tags(&many)),
            Err(ItemError::TooManyTags(_))
        ));
    }
}
