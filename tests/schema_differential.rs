//! Differential test: our schemas (`schemas/<version>/schema.json`, embedded) against the
//! official ones (`../shared/spec-schemas/<version>/schema.json`, read at test time, never
//! vendored). Both must accept/reject the same instances:
//!
//! - the official examples (`2026-07-28/examples/<Definition>/*.json`): 100% agreement;
//! - per version, instances generated for EVERY definition from both schemas (valid ones walking
//!   the schema, and mutated ones: wrong types, missing required members, extra members, bad
//!   enum/const values, boundary numbers), deterministic (fixed seed), at least 10,000 per
//!   version: at least 99.9% agreement.
//!
//! Both sides are validated through `SchemaSet` with the same options (formats asserted), so
//! what is compared is the schemas, not two validator configurations.
//! Run with `--nocapture` to see the agreement numbers.

use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::ProtocolVersion;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const MIN_INSTANCES: usize = 10_000;
const MIN_AGREEMENT: f64 = 0.999;
const SEED: u64 = 0x4d43_505f_636f_6e66; // "MCP_conf"

fn official_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/spec-schemas");
    dir.join("2024-11-05/schema.json").is_file().then_some(dir)
}

/// Our deliberate differences from the official `schema.json` (also listed in schemas/README.md):
/// (version, JSON pointer into the official document, what schema.ts says it should be, why).
/// A disagreement counts as explained when the official schema with these replacements applied
/// agrees with ours.
const DELIBERATE: &[(&str, &str, &str, &str)] = &[(
    "2026-07-28",
    "/$defs/JSONValue/anyOf/2",
    r#"{"type": ["string", "number", "boolean", "null"]}"#,
    "schema.ts: JSONValue = string | number | boolean | null | JSONObject | JSONArray; the generated \
     schema.json (--defaultNumberType integer) admits only integers and no null",
)];

struct Sets {
    ours: Arc<SchemaSet>,
    theirs: Arc<SchemaSet>,
    /// The official schemas with `DELIBERATE` applied.
    theirs_amended: Arc<SchemaSet>,
    dir: PathBuf,
}

fn sets() -> Option<&'static Sets> {
    static SETS: OnceLock<Option<Sets>> = OnceLock::new();
    SETS.get_or_init(|| {
        let dir = official_dir()?;
        let ours = SchemaSet::embedded().expect("our schemas load");
        let theirs = SchemaSet::from_dir(&dir).expect("official schemas load");
        // Write the amended copies under the test's scratch dir (never into the repository).
        let amended = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("official-schemas-amended");
        for version in ProtocolVersion::ALL {
            let mut doc = load(dir.join(version.as_str()).join("schema.json"));
            for (v, pointer, replacement, _) in DELIBERATE {
                if *v == version.as_str() {
                    let slot = doc
                        .pointer_mut(pointer)
                        .unwrap_or_else(|| panic!("{v}: no {pointer} in the official schema"));
                    *slot = serde_json::from_str(replacement).unwrap();
                }
            }
            let out = amended.join(version.as_str());
            std::fs::create_dir_all(&out).unwrap();
            std::fs::write(
                out.join("schema.json"),
                serde_json::to_string(&doc).unwrap(),
            )
            .unwrap();
        }
        let theirs_amended = SchemaSet::from_dir(&amended).expect("amended official schemas load");
        Some(Sets {
            ours,
            theirs,
            theirs_amended,
            dir,
        })
    })
    .as_ref()
}

macro_rules! skip_without_official {
    ($name:expr) => {
        match sets() {
            Some(s) => s,
            None => {
                println!(
                    "SKIPPED {}: official schemas not found at {}/../shared/spec-schemas",
                    $name,
                    env!("CARGO_MANIFEST_DIR")
                );
                return;
            }
        }
    };
}

// ---------------------------------------------------------------- deterministic randomness

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        // SplitMix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---------------------------------------------------------------- instance generator

struct Gen<'a> {
    doc: &'a Value,
    rng: Rng,
}

const WORDS: &[&str] = &[
    "alpha",
    "weather",
    "get_forecast",
    "hello world",
    "",
    "x",
    "résumé",
    "42",
];

impl Gen<'_> {
    fn resolve(&self, reference: &str) -> Option<&Value> {
        reference
            .strip_prefix('#')
            .and_then(|p| self.doc.pointer(p))
    }

    fn instance(&mut self, schema: &Value, depth: usize) -> Value {
        let Some(s) = schema.as_object() else {
            return match schema {
                Value::Bool(false) => Value::Null,
                _ => self.any_scalar(),
            };
        };
        if depth > 14 {
            return Value::Null;
        }
        if let Some(Value::String(r)) = s.get("$ref")
            && let Some(target) = self.resolve(r)
        {
            let target = target.clone();
            let base = self.instance(&target, depth + 1);
            // 2020-12: keywords next to $ref apply as well; merge their object members.
            let mut rest = s.clone();
            rest.remove("$ref");
            rest.remove("description");
            if rest.keys().any(|k| k == "properties" || k == "required") {
                return merge(base, self.instance(&Value::Object(rest), depth + 1));
            }
            return base;
        }
        if let Some(Value::Array(all)) = s.get("allOf") {
            let mut out = Value::Object(Map::new());
            for sub in all {
                let v = self.instance(sub, depth + 1);
                out = merge(out, v);
            }
            let mut rest = s.clone();
            rest.remove("allOf");
            if rest
                .keys()
                .any(|k| k == "properties" || k == "required" || k == "type")
            {
                out = merge(out, self.instance(&Value::Object(rest), depth + 1));
            }
            return out;
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alts)) = s.get(key)
                && !alts.is_empty()
            {
                let alt = self.rng.pick(alts).clone();
                return self.instance(&alt, depth + 1);
            }
        }
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        if let Some(Value::Array(options)) = s.get("enum")
            && !options.is_empty()
        {
            return self.rng.pick(options).clone();
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) if !ts.is_empty() => {
                self.rng.pick(ts).as_str().unwrap_or("null").to_owned()
            }
            _ if s.contains_key("properties") || s.contains_key("required") => "object".to_owned(),
            _ if s.contains_key("items") => "array".to_owned(),
            _ => return self.any_scalar(),
        };
        match ty.as_str() {
            "object" => self.object(s, depth),
            "array" => {
                let n = if depth > 8 { 0 } else { self.rng.below(3) };
                let n = n.max(s.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize);
                let items = s.get("items").cloned().unwrap_or(Value::Bool(true));
                Value::Array((0..n).map(|_| self.instance(&items, depth + 1)).collect())
            }
            "string" => self.string(s),
            "integer" => {
                let lo = s.get("minimum").and_then(Value::as_i64).unwrap_or(-5);
                let hi = s
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .unwrap_or(lo.max(0) + 100);
                json!(lo + self.rng.below((hi - lo + 1).max(1) as usize) as i64)
            }
            "number" => {
                let lo = s.get("minimum").and_then(Value::as_f64).unwrap_or(-10.0);
                let hi = s
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .unwrap_or(lo.max(0.0) + 100.0);
                let f = (self.rng.below(1001) as f64) / 1000.0;
                let x = lo + (hi - lo) * f;
                if self.rng.chance(30) {
                    json!(x.round() as i64)
                } else {
                    json!(x)
                }
            }
            "boolean" => json!(self.rng.chance(50)),
            "null" => Value::Null,
            _ => self.any_scalar(),
        }
    }

    fn object(&mut self, s: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = Map::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, sub) in props {
            let optional_chance = if depth > 6 { 10 } else { 55 };
            if required.contains(&name.as_str()) || self.rng.chance(optional_chance) {
                let v = self.instance(sub, depth + 1);
                out.insert(name.clone(), v);
            }
        }
        for name in &required {
            if !out.contains_key(*name) {
                out.insert(name.to_string(), self.any_scalar());
            }
        }
        match s.get("additionalProperties") {
            Some(Value::Bool(false)) => {}
            Some(extra @ Value::Object(_)) if self.rng.chance(30) => {
                let v = self.instance(extra, depth + 1);
                out.insert(format!("extra{}", self.rng.below(3)), v);
            }
            _ => {}
        }
        Value::Object(out)
    }

    fn string(&mut self, s: &Map<String, Value>) -> Value {
        let mut text = match s.get("format").and_then(Value::as_str) {
            Some("uri") => self
                .rng
                .pick(&[
                    "https://example.com/a",
                    "file:///tmp/x.txt",
                    "urn:isbn:0451450523",
                ])
                .to_string(),
            Some("uri-template") => self
                .rng
                .pick(&["file:///{path}", "https://example.com/{id}", "res://x"])
                .to_string(),
            Some("byte") => self.rng.pick(&["aGVsbG8=", "", "AAAA"]).to_string(),
            Some("date-time") => "2025-06-18T12:00:00Z".to_owned(),
            Some("date") => "2025-06-18".to_owned(),
            Some("email") => "someone@example.com".to_owned(),
            _ => self.rng.pick(WORDS).to_string(),
        };
        let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        while text.chars().count() < min {
            text.push('a');
        }
        if let Some(max) = max {
            text = text.chars().take(max).collect();
        }
        Value::String(text)
    }

    fn any_scalar(&mut self) -> Value {
        match self.rng.below(6) {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(self.rng.below(1000)),
            3 => json!(1.5),
            4 => json!({"k": "v"}),
            _ => json!(*self.rng.pick(WORDS)),
        }
    }
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                a.insert(k, v);
            }
            Value::Object(a)
        }
        (a, Value::Object(b)) if b.is_empty() => a,
        (_, b) => b,
    }
}

// ---------------------------------------------------------------- mutations

/// JSON pointers of every node of `v`.
fn nodes(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                nodes(
                    c,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                nodes(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn mutate(v: &Value, rng: &mut Rng) -> Value {
    let mut v = v.clone();
    let mut paths = Vec::new();
    nodes(&v, String::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let node = v.pointer_mut(&path).unwrap();
    match rng.below(8) {
        // Wrong type.
        0 => {
            *node = match node {
                Value::String(_) => json!(7),
                Value::Number(_) => json!("7"),
                Value::Bool(_) => json!("true"),
                Value::Null => json!(false),
                Value::Object(_) => json!(["not", "an", "object"]),
                Value::Array(_) => json!({"not": "an array"}),
            }
        }
        // Missing member.
        1 => {
            if let Value::Object(m) = node {
                if !m.is_empty() {
                    let k = m.keys().nth(rng.below(m.len())).unwrap().clone();
                    m.shift_remove(&k);
                }
            } else {
                *node = Value::Null;
            }
        }
        // Extra member.
        2 => {
            if let Value::Object(m) = node {
                m.insert("unexpectedMember".into(), json!({"x": 1}));
            } else if let Value::Array(a) = node {
                a.push(json!({"unexpected": true}));
            }
        }
        // Bad enum / const / format value.
        3 => {
            *node = json!(*rng.pick(&[
                "not-a-valid-value",
                "text ",
                "2.0.0",
                "ref/nothing",
                "::not a uri::",
                "a"
            ]))
        }
        // Boundary numbers.
        4 => {
            *node = rng
                .pick(&[
                    json!(-1),
                    json!(0),
                    json!(1),
                    json!(1.5),
                    json!(2),
                    json!(-0.5),
                    json!(1e300),
                    json!(u64::MAX),
                    json!(i64::MIN),
                ])
                .clone()
        }
        // Null where something else is expected.
        5 => *node = Value::Null,
        // Empty container / empty string.
        6 => {
            *node = match node {
                Value::Object(_) => json!({}),
                Value::Array(_) => json!([]),
                _ => json!(""),
            }
        }
        // Swap discriminators: put another member's value here.
        _ => {
            let other = rng.pick(&paths).clone();
            let replacement = v.pointer(&other).cloned().unwrap_or(Value::Null);
            if let Some(n) = v.pointer_mut(&path) {
                *n = replacement;
            }
        }
    }
    v
}

// ---------------------------------------------------------------- the comparison

#[derive(Default)]
struct Tally {
    instances: usize,
    agreements: usize,
    accepted_by_both: usize,
    /// (definition, instance, ours accepts)
    disagreements: Vec<(String, Value, bool)>,
    /// Disagreements that the official schema amended by `DELIBERATE` does not share.
    explained: usize,
    per_definition: BTreeMap<String, usize>,
}

fn compare(sets: &Sets, version: ProtocolVersion, def: &str, instance: Value, tally: &mut Tally) {
    let a = sets
        .ours
        .is_valid(version, def, &instance)
        .expect("our definition compiles");
    let b = sets
        .theirs
        .is_valid(version, def, &instance)
        .expect("official definition compiles");
    tally.instances += 1;
    if a == b {
        tally.agreements += 1;
        if a {
            tally.accepted_by_both += 1;
        }
    } else {
        if sets.theirs_amended.is_valid(version, def, &instance) == Some(a) {
            tally.explained += 1;
            return;
        }
        *tally.per_definition.entry(def.to_owned()).or_default() += 1;
        tally.disagreements.push((def.to_owned(), instance, a));
    }
}

fn load(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn differential(version: ProtocolVersion) {
    let sets = skip_without_official!(format!("differential {version}"));
    let (ours, theirs, dir) = (&sets.ours, &sets.theirs, &sets.dir);
    let our_doc: Value =
        serde_json::from_str(mcp_conform::schema::embedded_schema_text(version)).unwrap();
    let their_doc = load(dir.join(version.as_str()).join("schema.json"));

    // Definition names must match the official ones.
    let our_names: Vec<&str> = ours.definitions(version);
    let their_names: Vec<&str> = theirs.definitions(version);
    let missing: Vec<_> = their_names
        .iter()
        .filter(|n| !our_names.contains(n))
        .collect();
    let extra: Vec<_> = our_names
        .iter()
        .filter(|n| !their_names.contains(n))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{version}: definitions missing {missing:?}, extra {extra:?}"
    );

    let our_defs = our_doc.get("$defs").unwrap();
    let their_defs = their_doc
        .get("$defs")
        .or_else(|| their_doc.get("definitions"))
        .unwrap();
    let mut tally = Tally::default();
    let mut round = 0u64;
    while tally.instances < MIN_INSTANCES {
        for def in &our_names {
            let mut rng = Rng::new(
                SEED ^ hash(version.as_str()) ^ hash(def) ^ round.wrapping_mul(0x1000_0001),
            );
            for (doc, schema) in [(&our_doc, &our_defs[*def]), (&their_doc, &their_defs[*def])] {
                let mut generator = Gen {
                    doc,
                    rng: Rng::new(rng.next()),
                };
                for _ in 0..2 {
                    let valid = generator.instance(schema, 0);
                    for _ in 0..3 {
                        let mutated = mutate(&valid, &mut rng);
                        compare(sets, version, def, mutated, &mut tally);
                    }
                    compare(sets, version, def, valid, &mut tally);
                }
            }
        }
        round += 1;
    }

    // The official examples of this version (if any), and mutations of each.
    let mut from_examples = 0;
    for (def, example) in official_examples(dir, version) {
        if !our_names.contains(&def.as_str()) {
            continue;
        }
        let mut rng = Rng::new(SEED ^ hash(&example.to_string()));
        compare(sets, version, &def, example.clone(), &mut tally);
        for _ in 0..EXAMPLE_MUTATIONS {
            compare(sets, version, &def, mutate(&example, &mut rng), &mut tally);
        }
        from_examples += 1 + EXAMPLE_MUTATIONS;
    }
    if from_examples > 0 {
        println!(
            "differential {version}: {from_examples} of the instances are official examples and their mutations"
        );
    }

    let raw = tally.agreements as f64 / tally.instances as f64;
    let rate = (tally.agreements + tally.explained) as f64 / tally.instances as f64;
    println!(
        "differential {version}: definitions {}, instances {}, agreements {}, disagreements {} \
         (explained by deliberate differences {}, unexplained {}), raw agreement {:.4}%, \
         agreement outside deliberate differences {:.4}%, accepted by both {}",
        our_names.len(),
        tally.instances,
        tally.agreements,
        tally.explained + tally.disagreements.len(),
        tally.explained,
        tally.disagreements.len(),
        raw * 100.0,
        rate * 100.0,
        tally.accepted_by_both
    );
    if !tally.disagreements.is_empty() {
        println!("  disagreements per definition: {:?}", tally.per_definition);
        for (def, instance, ours_accepts) in tally.disagreements.iter().take(12) {
            println!(
                "  {def}: ours {} / official {}: {instance}",
                if *ours_accepts { "accepts" } else { "rejects" },
                if *ours_accepts { "rejects" } else { "accepts" }
            );
        }
    }
    assert!(tally.instances >= MIN_INSTANCES);
    assert!(
        rate >= MIN_AGREEMENT,
        "{version}: agreement {:.4}% < {:.1}%",
        rate * 100.0,
        MIN_AGREEMENT * 100.0
    );
}

#[test]
fn differential_2024_11_05() {
    differential(ProtocolVersion::V2024_11_05);
}

#[test]
fn differential_2025_03_26() {
    differential(ProtocolVersion::V2025_03_26);
}

#[test]
fn differential_2025_06_18() {
    differential(ProtocolVersion::V2025_06_18);
}

#[test]
fn differential_2025_11_25() {
    differential(ProtocolVersion::V2025_11_25);
}

#[test]
fn differential_2026_07_28() {
    differential(ProtocolVersion::V2026_07_28);
}

/// Mutations per official example in the differential corpus.
const EXAMPLE_MUTATIONS: usize = 20;

/// `(definition, instance)` for every `examples/<Definition>/*.json` of `version`, sorted.
fn official_examples(dir: &std::path::Path, version: ProtocolVersion) -> Vec<(String, Value)> {
    let examples = dir.join(version.as_str()).join("examples");
    let Ok(entries) = std::fs::read_dir(&examples) else {
        return Vec::new();
    };
    let mut dirs: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for def_dir in dirs {
        let def = def_dir.file_name().unwrap().to_str().unwrap().to_owned();
        let mut files: Vec<_> = std::fs::read_dir(&def_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json"))
        {
            out.push((def.clone(), load(file)));
        }
    }
    out
}

/// The official examples: every file must be judged alike by both schemas (and both accept them).
#[test]
fn official_examples_2026_07_28() {
    let sets = skip_without_official!("official examples 2026-07-28");
    let (ours, theirs, dir) = (&sets.ours, &sets.theirs, &sets.dir);
    let version = ProtocolVersion::V2026_07_28;
    let (mut total, mut agree, mut problems) = (0, 0, Vec::new());
    for (def, instance) in official_examples(dir, version) {
        let a = ours.is_valid(version, &def, &instance);
        let b = theirs.is_valid(version, &def, &instance);
        total += 1;
        if a == b {
            agree += 1;
        }
        if a != Some(true) || b != Some(true) {
            let findings = ours.validate_definition(version, &def, &instance);
            problems.push(format!(
                "{def} {instance}: ours {a:?} official {b:?} {findings:#?}"
            ));
        }
    }
    println!(
        "official examples {version}: instances {total}, agreements {agree}, disagreements {}",
        total - agree
    );
    assert!(total > 100, "expected the official examples, found {total}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------- structural comparison

/// Definitions whose normalized structure differs from the official one, on purpose.
const STRUCTURAL_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "2025-03-26",
        "JSONRPCMessage",
        "the batch alternatives reference JSONRPCBatchRequest/JSONRPCBatchResponse instead of repeating them (same meaning)",
    ),
    (
        "2026-07-28",
        "JSONValue",
        "deliberate difference: every JSON scalar, as in schema.ts",
    ),
];

/// Definitions that are only a name for a simple schema: references to them are inlined.
const TRIVIAL: &[&str] = &["Cursor", "ResultType", "MetaObject"];

/// A schema with annotations, no-op keywords and representation choices removed, so that two
/// schemas with the same meaning compare equal: descriptions/titles dropped, `additionalProperties:
/// {}`/`true` and empty `properties` dropped, `required` sorted, references into the middle of
/// another definition (and to `TRIVIAL` ones) inlined, `definitions` spelled `$defs`.
fn normalize(node: &Value, doc: &Value) -> Value {
    match node {
        Value::Array(items) => Value::Array(items.iter().map(|i| normalize(i, doc)).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("description" | "title" | "$comment", Value::String(_)) => {}
                    ("additionalProperties", Value::Bool(true)) => {}
                    ("additionalProperties" | "properties", Value::Object(m)) if m.is_empty() => {}
                    ("properties" | "$defs" | "definitions", Value::Object(m)) => {
                        let m: Map<String, Value> = m
                            .iter()
                            .map(|(n, s)| (n.clone(), normalize(s, doc)))
                            .collect();
                        out.insert(k.replace("definitions", "$defs"), Value::Object(m));
                    }
                    ("required", Value::Array(r)) => {
                        let mut r = r.clone();
                        r.sort_by_key(|x| x.to_string());
                        out.insert(k.clone(), Value::Array(r));
                    }
                    ("enum" | "const" | "default" | "examples", _) => {
                        out.insert(k.clone(), v.clone());
                    }
                    ("$ref", Value::String(r)) => {
                        let target_path = r.trim_start_matches('#');
                        let segments: Vec<&str> =
                            target_path.trim_start_matches('/').split('/').collect();
                        let inline = segments.len() > 2
                            || segments.get(1).is_some_and(|n| TRIVIAL.contains(n));
                        match doc.pointer(target_path) {
                            Some(target) if inline => {
                                if let Value::Object(t) = normalize(target, doc) {
                                    out.extend(t);
                                }
                            }
                            _ => {
                                out.insert(
                                    k.clone(),
                                    Value::String(r.replace("#/definitions/", "#/$defs/")),
                                );
                            }
                        }
                    }
                    _ => {
                        out.insert(k.clone(), normalize(v, doc));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Every definition, normalized, must equal the official one except `STRUCTURAL_DIFFERENCES`.
/// This catches what random instances rarely reach (a `maxItems: 100`, a bound on a deep member).
#[test]
fn structure_matches_official() {
    let sets = skip_without_official!("structural comparison");
    let mut differing = Vec::new();
    let mut identical = 0;
    for version in ProtocolVersion::ALL {
        let ours: Value =
            serde_json::from_str(mcp_conform::schema::embedded_schema_text(version)).unwrap();
        let theirs = load(sets.dir.join(version.as_str()).join("schema.json"));
        let their_defs = theirs
            .get("$defs")
            .or_else(|| theirs.get("definitions"))
            .unwrap()
            .as_object()
            .unwrap();
        for (name, their_def) in their_defs {
            let Some(our_def) = ours["$defs"].get(name) else {
                continue;
            };
            let a = normalize(their_def, &theirs);
            let mut b = normalize(our_def, &ours);
            // A definition that is only a reference to another one (ours) vs. the spelled-out schema.
            if let Some(Value::String(r)) = b.get("$ref")
                && b.as_object().unwrap().len() == 1
                && a.get("$ref").is_none()
            {
                b = normalize(ours.pointer(r.trim_start_matches('#')).unwrap(), &ours);
            }
            if a == b {
                identical += 1;
            } else {
                differing.push((version.as_str(), name.clone(), a, b));
            }
        }
    }
    let names: Vec<(&str, &str)> = differing
        .iter()
        .map(|(v, n, _, _)| (*v, n.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = STRUCTURAL_DIFFERENCES
        .iter()
        .map(|(v, n, _)| (*v, *n))
        .collect();
    println!(
        "structural comparison: {identical} definitions identical after normalization, {} differ: {names:?}",
        differing.len()
    );
    let unexpected: Vec<String> = differing
        .iter()
        .filter(|(v, n, _, _)| !expected.contains(&(*v, n.as_str())))
        .map(|(v, n, a, b)| format!("{v} {n}:\n  official {a}\n  ours     {b}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected structural differences:\n{}",
        unexpected.join("\n")
    );
    let stale: Vec<_> = expected.iter().filter(|e| !names.contains(e)).collect();
    assert!(
        stale.is_empty(),
        "listed structural differences that no longer exist: {stale:?}"
    );
}
