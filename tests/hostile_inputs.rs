//! Hostile input through the real `handle` path: the built binary, its
//! `handle --event FILE`, and the local AWS. Each case in tests/hostile/
//! names its expected exit status and the field (or tag) its error must
//! name; every case must leave the local AWS without a single write, which
//! the local AWS counts for the access key id the binary signs with.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

const UTF8_BOM: &str = "\u{feff}";

fn corpus(name: &str) -> Value {
    let path = format!("{}/tests/hostile/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A directory of its own for this run's event files.
fn scratch(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hostile-{kind}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Expands the generators a manifest may use in a `set` value.
fn expand(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    if let Some(args) = map.get("$repeat") {
        let text = args[0].as_str().unwrap();
        return json!(text.repeat(args[1].as_u64().unwrap() as usize));
    }
    if let Some(args) = map.get("$nest") {
        let mut leaf = args[1].clone();
        for _ in 0..args[0].as_u64().unwrap() {
            leaf = json!([leaf]);
        }
        return leaf;
    }
    if let Some(n) = map.get("$fields") {
        let fields: Map<String, Value> = (0..n.as_u64().unwrap())
            .map(|i| (format!("f{i}"), json!(i)))
            .collect();
        return Value::Object(fields);
    }
    value.clone()
}

/// The parent of a JSON pointer and the last key in it.
fn split_pointer(pointer: &str) -> (&str, &str) {
    pointer.rsplit_once('/').expect("a JSON pointer")
}

/// The bytes of one payload case.
fn payload_bytes(case: &Value, bases: &Value) -> Vec<u8> {
    if let Some(text) = case.get("raw") {
        return text.as_str().unwrap().as_bytes().to_vec();
    }
    if let Some(bytes) = case.get("bytes") {
        return bytes
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
    }
    if let Some(pieces) = case.get("pieces") {
        let mut text = String::new();
        for piece in pieces.as_array().unwrap() {
            text.push_str(
                &piece[0]
                    .as_str()
                    .unwrap()
                    .repeat(piece[1].as_u64().unwrap() as usize),
            );
        }
        return text.into_bytes();
    }
    let mut payload = match case.get("payload") {
        Some(p) => p.clone(),
        None => bases[case["base"].as_str().unwrap()].clone(),
    };
    for (pointer, value) in case
        .get("set")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let (parent, key) = split_pointer(pointer);
        let target = payload
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("{pointer}: no parent"));
        target[key] = expand(value);
    }
    for pointer in case
        .get("remove")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (parent, key) = split_pointer(pointer.as_str().unwrap());
        let target = payload.pointer_mut(parent).unwrap();
        assert!(
            target.as_object_mut().unwrap().remove(key).is_some(),
            "{pointer}: absent"
        );
    }
    serde_json::to_vec(&payload).unwrap()
}

/// Runs `handle --event FILE` against the local AWS, signing with `key`.
fn handle(file: &Path, key: &str) -> Output {
    support::tool(key)
        .args(["handle", "--event", file.to_str().unwrap()])
        .output()
        .expect("run the binary")
}

/// What the binary said went wrong: the Lambda error message for a failed
/// invocation (exit 1), standard error otherwise.
fn error_text(out: &Output) -> String {
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(body) if body.get("errorMessage").is_some() => {
            let kind = body["errorType"].as_str().unwrap_or_default();
            format!(
                "{kind}: {}",
                body["errorMessage"].as_str().unwrap_or_default()
            )
        }
        _ => String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `check` over `cases` on a few threads and fails with every problem.
fn run_all(cases: &[Value], check: impl Fn(&Value) -> Result<(), String> + Sync) {
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                if let Err(p) = check(case) {
                    problems
                        .lock()
                        .unwrap()
                        .push(format!("{}: {p}", case["name"]));
                }
            });
        }
    });
    let problems = problems.into_inner().unwrap();
    assert!(
        problems.is_empty(),
        "{} case(s) failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The exit status, and a shortened message for the report.
fn status_of(out: &Output) -> (Option<i32>, String) {
    let text = error_text(out);
    let cut: String = text.chars().take(300).collect();
    (out.status.code(), cut)
}

#[test]
fn hostile_payloads_are_refused_naming_the_field_and_write_nothing() {
    let manifest = corpus("payloads.json");
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= 60, "{} payloads", cases.len());
    let dir = scratch("payloads");
    run_all(cases, |case| {
        let name = case["name"].as_str().unwrap();
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, payload_bytes(case, &manifest["bases"])).unwrap();
        let key = format!("hostile-payload-{name}");
        let out = handle(&file, &key);
        let (code, text) = status_of(&out);
        let expected = case["exit"].as_i64().unwrap() as i32;
        if code != Some(expected) {
            return Err(format!("exit {code:?}, expected {expected}: {text}"));
        }
        if let Some(field) = case.get("field").and_then(Value::as_str) {
            // "detail.EndpointStatus: expected ..., got null", or
            // "detail.EndpointName: missing, expected ...".
            let named = text.contains(&format!(" {field}: expected ")) && text.contains(", got ")
                || text.contains(&format!(" {field}: missing, expected "));
            if !named {
                return Err(format!(
                    "the error does not name `{field}` and its value: {text}"
                ));
            }
        }
        if let Some(says) = case.get("says").and_then(Value::as_str) {
            if !text.contains(says) {
                return Err(format!("the error does not say {says:?}: {text}"));
            }
        }
        let stats = support::local_aws_stats(&key);
        if stats["writes"] != 0 {
            return Err(format!("wrote to AWS: {stats}"));
        }
        // A refused payload is refused before any AWS call.
        if expected != 0 && stats["requests"] != 0 {
            return Err(format!("called AWS for a refused payload: {stats}"));
        }
        Ok(())
    });
}

#[test]
fn the_payload_corpus_covers_what_it_claims() {
    let manifest = corpus("payloads.json");
    let cases = manifest["cases"].as_array().unwrap();
    let bases = &manifest["bases"];
    // Every envelope field is taken away by one case.
    for field in bases["in-service"].as_object().unwrap().keys() {
        let pointer = format!("/{field}");
        assert!(
            cases.iter().any(|c| c["remove"] == json!([pointer])),
            "no case removes {field}"
        );
    }
    // The generated documents really are over the limit, or deep.
    let sizes: Vec<(String, usize)> = cases
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                payload_bytes(c, bases).len(),
            )
        })
        .collect();
    let size = |name: &str| sizes.iter().find(|(n, _)| n == name).unwrap().1;
    assert!(size("array-6-mb") >= 6_000_000);
    assert_eq!(size("just-over-the-limit"), 256 * 1024 + 1);
    assert!(size("unused-resources-200-kb") < 256 * 1024);
    let bom = payload_bytes(
        cases
            .iter()
            .find(|c| c["name"] == "byte-order-mark-accepted")
            .unwrap(),
        bases,
    );
    assert!(bom.starts_with(UTF8_BOM.as_bytes()));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_tags_are_refused_naming_the_tag_and_write_nothing() {
    let manifest = corpus("tag_sets.json");
    let cases = manifest["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 30, "{} tag sets", cases.len());
    let events = corpus("payloads.json")["bases"]["in-service"].clone();
    let dir = scratch("tags");
    // One endpoint per tag set, created with the default access key.
    let mut files = Vec::new();
    for case in &cases {
        let tags: Vec<(String, String)> = case["tags"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let endpoint = support::create_endpoint(
            "hostile-tags",
            &[support::instances("primary", "ml.m5.large", 1)],
            &tags,
            false,
        )
        .await;
        let mut event = events.clone();
        event["detail"]["EndpointName"] = json!(endpoint);
        let file = dir.join(format!("{}.json", case["name"].as_str().unwrap()));
        std::fs::write(&file, serde_json::to_vec(&event).unwrap()).unwrap();
        files.push((case["name"].as_str().unwrap().to_string(), file));
    }
    tokio::task::spawn_blocking(move || {
        run_all(&cases, |case| {
            let name = case["name"].as_str().unwrap();
            let file = &files.iter().find(|(n, _)| n == name).unwrap().1;
            let key = format!("hostile-tags-{name}");
            let out = handle(file, &key);
            let (code, text) = status_of(&out);
            let expected = case["exit"].as_i64().unwrap() as i32;
            if code != Some(expected) {
                return Err(format!("exit {code:?}, expected {expected}: {text}"));
            }
            if let Some(tag) = case.get("tag").and_then(Value::as_str) {
                let value = case["tags"][tag].as_str().unwrap();
                // "invalid tag autoscaling:min-capacity=" 2": must be ..."
                let named = format!("invalid tag {tag}={value:?}: ");
                if !text.starts_with("InvalidTag: ") || !text.contains(&named) {
                    return Err(format!("the error does not name {named:?}: {text}"));
                }
            }
            let stats = support::local_aws_stats(&key);
            if stats["writes"] != 0 {
                return Err(format!("wrote to AWS: {stats}"));
            }
            if stats["reads"] == 0 {
                return Err(format!("never read the endpoint: {stats}"));
            }
            Ok(())
        })
    })
    .await
    .unwrap();
}
