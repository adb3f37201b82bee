//! Python 2 names are mapped by the protocol in effect at each op (the last PROTO before it,
//! none meaning 0), in `check` as in `scan`. The truth is real CPython: each stream is loaded
//! by `pickle.loads` in the fixture venv (the names are harmless builtins).

mod common;

use std::process::Command;

#[test]
fn check_maps_python2_names_by_the_protocol_in_effect() {
    let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") else {
        return;
    };
    let streams: [&[u8]; 6] = [
        b"c__builtin__\nlen\n.",
        b"\x80\x02c__builtin__\nlen\n.",
        b"\x80\x03c__builtin__\nlen\n.",
        b"\x80\x02\x80\x03c__builtin__\nlen\n.",
        b"\x80\x03\x80\x02c__builtin__\nlen\n.",
        b"\x80\x02\x8c\x0b__builtin__\x8c\x03len\x93.",
    ];
    let dir = std::env::temp_dir().join(format!("pd-proto-in-effect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, data) in streams.iter().enumerate() {
        let path = dir.join(format!("s{i}.pkl"));
        std::fs::write(&path, data).unwrap();
        let p = path.to_str().unwrap();
        let real = Command::new(&python)
            .args([
                "-c",
                "import pickle, sys\n\
                 try:\n    pickle.loads(open(sys.argv[1], 'rb').read()); print('loads')\n\
                 except Exception as e:\n    print('%s: %s' % (type(e).__name__, e))",
                p,
            ])
            .output()
            .unwrap();
        let real = String::from_utf8(real.stdout).unwrap().trim().to_owned();
        let py = python.to_str().unwrap();
        let out = common::run_cli(&["check", "--format", "json", "--python", py, p], None);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let report = &doc["files"][0];
        if real == "loads" {
            assert_eq!(report["verdict"], "loads", "{data:?}: {report}");
        } else {
            assert_eq!(report["verdict"], "fails", "{data:?}: {report}");
            assert_eq!(report["error"].as_str(), Some(real.as_str()), "{data:?}");
        }
        // scan agrees: a mapped `len` is allowed; the unmapped Python 2 name is unknown.
        let (_, v) = common::scan_json(&[p]);
        let findings = v["files"][0]["findings"].as_array().unwrap();
        assert_eq!(
            findings.is_empty(),
            real == "loads",
            "{data:?}: {findings:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
