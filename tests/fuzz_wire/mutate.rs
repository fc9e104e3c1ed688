//! The mutator: structure-aware edits of a seed's JSON tree (what a messy server does: nulls,
//! numbers as strings and strings as numbers, keys dropped or added, extreme numbers, lists
//! emptied or repeated, a control given another type's name, subtrees from other seeds), then,
//! for some inputs, edits of the text itself (bytes flipped, cut, repeated, invalid UTF-8) or
//! bytes with no structure at all.

use serde_json::{json, Map, Number, Value};

use super::rng::Rng;
use super::seeds::Seed;

/// An input larger than this is its seed again: mutation should explore shapes, not the
/// memory of the machine.
const MAX_INPUT_BYTES: usize = 256 * 1024;

/// Every key of the wire types (and a few real ones the types ignore), for added keys.
const KEYS: &[&str] = &[
    "errcode",
    "errmsg",
    "info",
    "journal_uuid",
    "template_name",
    "template_id",
    "report_time",
    "submitter",
    "receivers",
    "readed_receivers",
    "apply_data",
    "contents",
    "sys_journal_data",
    "comments",
    "commentid",
    "tocommentid",
    "comment_userinfo",
    "content",
    "comment_time",
    "userid",
    "control",
    "id",
    "title",
    "text",
    "lang",
    "value",
    "new_number",
    "new_money",
    "date",
    "type",
    "s_timestamp",
    "selector",
    "options",
    "key",
    "members",
    "name",
    "departments",
    "openapi_id",
    "files",
    "file_id",
    "children",
    "list",
    "date_range",
    "new_begin",
    "new_end",
    "new_duration",
    "location",
    "latitude",
    "longitude",
    "address",
    "time",
    "formula",
    "students",
    "classes",
    "docs",
    "docid",
    "doc_url",
    "wedrive_files",
    "fileid",
    "tips",
    "journaluuid_list",
    "next_cursor",
    "endflag",
    "stat_list",
    "report_range",
    "white_range",
    "user_list",
    "party_list",
    "open_partyid",
    "tag_list",
    "open_tagid",
    "leader_list",
    "level",
    "cycle_begin_time",
    "cycle_end_time",
    "stat_begin_time",
    "stat_end_time",
    "report_list",
    "unreport_list",
    "user",
    "itemlist",
    "journaluuid",
    "reporttime",
    "flag",
    "report_type",
    "department",
    "parentid",
    "order",
    "userlist",
    "main_department",
    "access_token",
    "expires_in",
    "download_url",
];

const CONTROLS: &[&str] = &[
    "Text",
    "Textarea",
    "Number",
    "Money",
    "Date",
    "Selector",
    "Contact",
    "Tips",
    "File",
    "Table",
    "DateRange",
    "Location",
    "Formula",
    "SchoolContact",
    "Doc",
    "WedriveFile",
    "Vote",
    "",
    "text",
    "Attendance",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    "3",
    "4",
    "12x",
    "1e3",
    "1.5",
    "+7",
    " 42 ",
    "NaN",
    "-0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "9007199254740993",
    "１２",
    "zh_CN",
    "en",
    "day",
    "hour",
    "halfday",
    "month",
    "single",
    "multi",
    "=HYPERLINK(\"x\")",
    "@SUM(A1)",
    "\t-1",
    "\u{0}",
    "\u{202e}abc",
    "😀🎉",
    "a\nb\r\nc",
    "\\",
    "\"",
    "<p>日报</p>",
    "、；",
    "null",
    "[]",
    "{}",
];

fn interesting_number(rng: &mut Rng) -> Value {
    match rng.below(22) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(1),
        3 => json!(i64::MIN),
        4 => json!(i64::MAX),
        5 => json!(u64::MAX),
        6 => json!(9_007_199_254_740_993u64),
        7 => json!(1.5),
        8 => json!(-0.0),
        9 => json!(1e300),
        10 => json!(-1e300),
        11 => json!(4_294_967_296u64),
        // Times around the edges of what dates can hold, in seconds and in milliseconds.
        12 => json!(253_402_300_800i64),
        13 => json!(-62_135_596_801i64),
        14 => json!(8_210_298_412_800i64),
        15 => json!(-8_334_632_851_200i64),
        16 => json!(1_791_787_200_000i64),
        17 => json!(i64::MAX / 1000),
        18 => json!(i64::MIN / 1000),
        19 => json!(2),
        20 => json!(3),
        _ => Value::Number(Number::from(rng.next_u64() >> rng.below(64))),
    }
}

fn interesting_string(rng: &mut Rng) -> Value {
    if rng.one_in(16) {
        let unit = rng.pick(STRINGS).to_string();
        return Value::String(unit.repeat(rng.below(400) + 1));
    }
    Value::String(rng.pick(STRINGS).to_string())
}

/// A random value of any shape, small.
fn random_value(rng: &mut Rng, pool: &[Seed]) -> Value {
    match rng.below(10) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 | 3 => interesting_number(rng),
        4 | 5 => interesting_string(rng),
        6 => json!([]),
        7 => json!({}),
        8 => json!([null, {}, [], ""]),
        _ => random_subtree(rng, pool),
    }
}

/// A subtree of a random seed (crossover between seeds and kinds).
fn random_subtree(rng: &mut Rng, pool: &[Seed]) -> Value {
    let mut node = &rng.pick(pool).tree;
    for _ in 0..12 {
        let next = match node {
            Value::Array(a) if !a.is_empty() => &a[rng.below(a.len())],
            Value::Object(m) if !m.is_empty() => m.values().nth(rng.below(m.len())).unwrap(),
            _ => break,
        };
        node = next;
        if rng.one_in(3) {
            break;
        }
    }
    node.clone()
}

/// Walks from `root` to a random node (stopping early at random) and edits it.
fn mutate_somewhere(root: &mut Value, rng: &mut Rng, pool: &[Seed]) {
    let mut node = root;
    let mut depth = 0;
    loop {
        let children = match &*node {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        };
        // The root itself is edited rarely (a body that is not an object at all is the
        // least interesting input).
        if children == 0 || rng.one_in(if depth == 0 { 32 } else { 4 }) {
            break;
        }
        depth += 1;
        let mut i = rng.below(children);
        // Below the root, the body (`info`, `stat_list`, …) rather than `errcode` or
        // `errmsg` most of the time.
        if depth == 1 && !rng.one_in(8) {
            if let Value::Object(m) = &*node {
                let containers: Vec<usize> = m
                    .values()
                    .enumerate()
                    .filter(|(_, v)| v.is_object() || v.is_array())
                    .map(|(i, _)| i)
                    .collect();
                if !containers.is_empty() {
                    i = *rng.pick(&containers);
                }
            }
        }
        node = match node {
            Value::Array(a) => &mut a[i],
            Value::Object(m) => m.values_mut().nth(i).unwrap(),
            _ => unreachable!("only containers have children"),
        };
    }
    edit(node, rng, pool);
}

fn edit(node: &mut Value, rng: &mut Rng, pool: &[Seed]) {
    match rng.below(12) {
        0 => *node = Value::Null,
        1 => *node = random_value(rng, pool),
        2 => retype(node, rng),
        3 => *node = interesting_number(rng),
        4 => *node = interesting_string(rng),
        _ => match node {
            Value::Object(m) => edit_object(m, rng, pool),
            Value::Array(a) => edit_array(a, rng, pool),
            _ => retype(node, rng),
        },
    }
}

/// A number as a string, a string as a number, a scalar in a list.
fn retype(node: &mut Value, rng: &mut Rng) {
    *node = match std::mem::take(node) {
        Value::Number(n) => match rng.below(3) {
            0 => Value::String(n.to_string()),
            1 => Value::String(format!(" {n} ")),
            _ => json!([n]),
        },
        Value::String(s) => match serde_json::from_str::<Number>(s.trim()) {
            Ok(n) => Value::Number(n),
            Err(_) if rng.one_in(2) => json!([s]),
            Err(_) => interesting_number(rng),
        },
        Value::Bool(b) => json!(u8::from(b)),
        Value::Null => json!(""),
        Value::Array(a) if a.len() == 1 => a.into_iter().next().unwrap_or_default(),
        Value::Array(a) => json!({ "list": a }),
        Value::Object(m) => Value::Array(vec![Value::Object(m)]),
    };
}

fn edit_object(m: &mut Map<String, Value>, rng: &mut Rng, pool: &[Seed]) {
    match rng.below(6) {
        0 | 1 if !m.is_empty() => {
            let key = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            m.shift_remove(&key);
        }
        2 => {
            m.insert(rng.pick(KEYS).to_string(), random_value(rng, pool));
        }
        3 if m.contains_key("control") => {
            m.insert("control".into(), json!(rng.pick(CONTROLS)));
        }
        4 if !m.is_empty() => {
            // One key's value under another key.
            let from = m
                .values()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            let to = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            m.insert(to, from);
        }
        _ => {
            let keys: Vec<String> = m.keys().cloned().collect();
            if let Some(key) = keys.get(rng.below(keys.len().max(1))) {
                let v = m.get_mut(key).expect("a key of the map");
                edit(v, rng, pool);
            }
        }
    }
}

fn edit_array(a: &mut Vec<Value>, rng: &mut Rng, pool: &[Seed]) {
    match rng.below(7) {
        0 => a.clear(),
        1 if !a.is_empty() => {
            let i = rng.below(a.len());
            a.remove(i);
        }
        2 if !a.is_empty() => {
            let v = a[rng.below(a.len())].clone();
            let times = if rng.one_in(8) { 64 } else { 1 };
            for _ in 0..times {
                a.insert(rng.below(a.len() + 1), v.clone());
            }
        }
        3 => a.push(random_value(rng, pool)),
        4 if a.len() > 1 => {
            let (i, j) = (rng.below(a.len()), rng.below(a.len()));
            a.swap(i, j);
        }
        5 => a.push(Value::Null),
        _ if !a.is_empty() => {
            let i = rng.below(a.len());
            edit(&mut a[i], rng, pool);
        }
        _ => a.push(random_subtree(rng, pool)),
    }
}

/// Edits of the text: what a cut-off body, a proxy or a broken encoder leaves.
fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..=rng.below(3) {
        let len = bytes.len();
        match rng.below(9) {
            0 if len > 0 => bytes.truncate(rng.below(len)),
            1 if len > 0 => {
                let i = rng.below(len);
                bytes[i] ^= 1 << rng.below(8);
            }
            2 => {
                let i = rng.below(len + 1);
                let b = *rng.pick(b"{}[]\",:\\0123456789-.eE nul\xff\xc3\x80");
                bytes.insert(i, b);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).min(64);
                bytes.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).min(256);
                let piece = bytes[i..i + n].to_vec();
                let at = rng.below(len + 1);
                bytes.splice(at..at, piece);
            }
            5 => {
                // A duplicate key right after an opening brace.
                if let Some(i) = bytes.iter().position(|b| *b == b'{') {
                    let key = format!("\"{}\":null,", rng.pick(KEYS));
                    bytes.splice(i + 1..i + 1, key.into_bytes());
                }
            }
            6 => {
                let i = rng.below(len + 1);
                const ESCAPES: [&[u8]; 5] = [b"\\u0000", b"\\ud800", b"\\u00e9", b"\\n", b"\\"];
                let esc = ESCAPES[rng.below(ESCAPES.len())];
                bytes.splice(i..i, esc.iter().copied());
            }
            7 => {
                let depth = rng.below(300) + 1;
                let i = rng.below(len + 1);
                let nest: Vec<u8> = std::iter::repeat_n(b'[', depth)
                    .chain(std::iter::repeat_n(b']', depth))
                    .collect();
                bytes.splice(i..i, nest);
            }
            _ => bytes.extend_from_slice(b" \n"),
        }
    }
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(64);
    (0..len).map(|_| (rng.next_u64() & 0xff) as u8).collect()
}

/// Input `rng` makes from seed `seed`: its tree edited 1–5 times, then, one time in five,
/// its text edited; one time in a hundred, bytes with no structure.
pub fn input(seed: &Seed, rng: &mut Rng, pool: &[Seed]) -> Vec<u8> {
    if rng.one_in(100) {
        return random_bytes(rng);
    }
    let mut tree = seed.tree.clone();
    let edits = 1 + rng.below(3) + usize::from(rng.one_in(4)) * rng.below(3);
    for _ in 0..edits {
        mutate_somewhere(&mut tree, rng, pool);
    }
    let mut bytes = if rng.one_in(4) {
        serde_json::to_vec_pretty(&tree)
    } else {
        serde_json::to_vec(&tree)
    }
    .unwrap_or_default();
    if bytes.len() > MAX_INPUT_BYTES {
        bytes = serde_json::to_vec(&seed.tree).unwrap_or_default();
    }
    if rng.one_in(5) {
        mutate_bytes(&mut bytes, rng);
    }
    bytes
}
