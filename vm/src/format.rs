//! Module kinds and the per-module limits an AO module item carries (DESIGN.md §10).

/// Which ABI a module speaks. A module item names it in its `Module-Format` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModuleFormat {
    /// This project's own: Lua 5.4 on wasm32-wasip1 (`vm/guest`).
    Aos,
    /// AO's emscripten modules, `wasm32-unknown-emscripten[2|3|4]`: the `handle(msg, env)`
    /// export of @permaweb/ao-loader, 32-bit memory.
    Emscripten32,
    /// AO's `wasm64-unknown-emscripten-draft_2024_02_15`: the same protocol on 64-bit memory.
    Emscripten64,
}

/// The `Module-Format` value of our own modules.
pub const AOS_FORMAT: &str = "wasm32-wasip1-aos";

impl ModuleFormat {
    /// The format a `Module-Format` tag names, if this runtime can run it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            AOS_FORMAT => Some(Self::Aos),
            "wasm32-unknown-emscripten"
            | "wasm32-unknown-emscripten2"
            | "wasm32-unknown-emscripten3"
            | "wasm32-unknown-emscripten4" => Some(Self::Emscripten32),
            "wasm64-unknown-emscripten-draft_2024_02_15" => Some(Self::Emscripten64),
            _ => None,
        }
    }

    pub fn is_emscripten(self) -> bool {
        matches!(self, Self::Emscripten32 | Self::Emscripten64)
    }
}

/// How to load a module: its format (`None`: tell from the module itself) and the limits its
/// item declares. Each limit only lowers the runtime's own (`VmConfig`), never raises it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleOptions {
    pub format: Option<ModuleFormat>,
    /// `Compute-Limit`: fuel one message may burn.
    pub compute_limit: Option<u64>,
    /// `Memory-Limit`: the process's memory ceiling in bytes (see [`parse_memory_limit`]).
    pub memory_limit: Option<u64>,
}

/// AO's `Memory-Limit` values: `"500-mb"`, `"1-gb"`, `"16-gb"`, `"1024-kb"` or plain bytes.
pub fn parse_memory_limit(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let (number, unit) = match text.split_once('-') {
        Some((n, u)) => (n, u),
        None => (text.as_str(), "b"),
    };
    let scale: u64 = match unit {
        "b" => 1,
        "kb" => 1 << 10,
        "mb" => 1 << 20,
        "gb" => 1 << 30,
        "tb" => 1 << 40,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limits_in_ao_notation() {
        assert_eq!(parse_memory_limit("500-mb"), Some(500 << 20));
        assert_eq!(parse_memory_limit("16-GB"), Some(16 << 30));
        assert_eq!(parse_memory_limit("65536"), Some(65536));
        assert_eq!(parse_memory_limit("1-pb"), None);
        assert_eq!(parse_memory_limit("x-mb"), None);
    }

    #[test]
    fn formats_by_tag() {
        assert_eq!(
            ModuleFormat::from_tag("wasm64-unknown-emscripten-draft_2024_02_15"),
            Some(ModuleFormat::Emscripten64)
        );
        assert_eq!(
            ModuleFormat::from_tag("wasm32-unknown-emscripten4"),
            Some(ModuleFormat::Emscripten32)
        );
        assert_eq!(ModuleFormat::from_tag("wasm32-wasi"), None);
    }
}
