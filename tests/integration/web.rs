//! Web traffic as real clients make it: https from a server whose certificate each client
//! trusts alone, connections kept and reused, a server started elsewhere (`--server`), and the
//! server's own cost in the record. Offline: every server is an `asyncstudy serve` on loopback.

use crate::common;

use common::{RUNTIMES, Server, run_json};
use serde_json::Value;

/// An `io` download of `tasks` tiny pages with `extra` arguments, JSON on stdout.
fn download(rt: &str, tasks: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "io",
        "--runtime",
        rt,
        "--workers",
        "1",
        "--tasks",
        tasks,
        "--writes",
        "1",
        "--timeout",
        "60s",
        "--format",
        "json",
    ];
    // A server started elsewhere serves what it was started with.
    if !extra.contains(&"--server") {
        args.extend(["--latency", "1ms", "--page-size", "2000"]);
    }
    args.extend_from_slice(extra);
    run_json(&args)
}

fn cost(r: &Value, key: &str) -> u64 {
    r["server"]["cost"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no server.cost.{key} in {}", r["server"]))
}

#[test]
fn every_runtime_downloads_over_tls_and_reuses_its_connections() {
    for rt in RUNTIMES {
        let r = download(
            rt,
            "3",
            &["--tls", "--connections", "reuse", "--concurrency", "1"],
        );
        assert_eq!(r["tasks"]["ok"], 3, "{rt}: {}", r["tasks"]);
        assert_eq!(r["bytes_per_run"], 3 * 2000, "{rt}");
        let params = &r["workload"]["params"];
        assert_eq!(params["tls"], true, "{rt}");
        assert_eq!(params["connections"], "reuse", "{rt}");
        assert!(
            params["server_url"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
        assert_eq!(r["server"]["kind"], "embedded", "{rt}");
        assert_eq!(r["server"]["tls"], true, "{rt}");
        assert_eq!(cost(&r, "requests"), 3, "{rt}");
        // One client per runtime or per process, one task at a time: one kept connection,
        // except where every task is a process of its own.
        let want = if rt == "process-per-task" { 3 } else { 1 };
        assert_eq!(cost(&r, "connections"), want, "{rt}: {}", r["server"]);
        assert_eq!(cost(&r, "tls_handshakes"), want, "{rt}: {}", r["server"]);
    }
}

#[test]
fn new_connections_are_one_per_request_and_the_server_counts_its_cost() {
    for rt in ["tokio-mt", "smol", "async-std", "threads", "process-pool"] {
        let r = download(rt, "3", &["--tls"]);
        assert_eq!(r["tasks"]["ok"], 3, "{rt}: {}", r["tasks"]);
        assert_eq!(r["workload"]["params"]["connections"], "new", "{rt}");
        assert_eq!(cost(&r, "connections"), 3, "{rt}: {}", r["server"]);
        let server = &r["server"]["cost"];
        for key in ["user_s", "sys_s", "cores_used"] {
            assert!(
                server["cpu"][key].as_f64().unwrap() >= 0.0,
                "{rt}: {server}"
            );
        }
        assert!(server["peak_rss_bytes"].as_u64().unwrap() > 0, "{rt}");
        assert!(!server["cpus"].as_array().unwrap().is_empty(), "{rt}");
        assert!(server["context_switches"]["voluntary"].is_u64(), "{rt}");
    }
}

#[test]
fn a_client_refuses_a_server_whose_certificate_it_was_not_given() {
    let served = Server::start(&["--tls", "--latency", "1ms"]);
    let other = Server::start(&["--tls"]);
    let wrong = other.cert.as_ref().unwrap().to_str().unwrap();
    let url = served.url.as_str();
    for rt in ["tokio-mt", "smol", "async-std", "threads", "process-pool"] {
        let r = download(rt, "2", &["--server", url, "--server-cert", wrong]);
        assert_eq!(r["tasks"]["ok"], 0, "{rt}");
        assert_eq!(r["tasks"]["errors"]["tls"], 2, "{rt}: {}", r["tasks"]);
        let why = r["tasks"]["failures"][0]["message"].as_str().unwrap();
        assert!(why.starts_with("the TLS handshake failed"), "{rt}: {why}");
        // The probe trusts what the clients trust, so the cost is unknown and said so.
        assert!(r["server"]["cost"].is_null(), "{rt}");
        let notes = r["notes"].to_string();
        assert!(
            notes.contains("the server's cost is unknown"),
            "{rt}: {notes}"
        );
    }
    // Without a certificate the clients trust the public roots, which never signed this one.
    let r = download("smol", "1", &["--server", url]);
    assert_eq!(r["tasks"]["errors"]["tls"], 1, "{}", r["tasks"]);
    // Given the right one, the same server serves.
    let right = served.cert.as_ref().unwrap().to_str().unwrap();
    let r = download("threads", "2", &["--server", url, "--server-cert", right]);
    assert_eq!(r["tasks"]["ok"], 2, "{}", r["tasks"]);
    assert_eq!(cost(&r, "tls_handshakes"), 2, "{}", r["server"]);
}

#[test]
fn a_server_started_elsewhere_is_marked_remote_and_reports_its_cost() {
    let remote = Server::start(&["--latency", "1ms", "--page-size", "300"]);
    let r = download(
        "tokio-mt",
        "4",
        &["--server", &remote.url, "--connections", "reuse"],
    );
    assert_eq!(r["tasks"]["ok"], 4, "{}", r["tasks"]);
    assert_eq!(r["bytes_per_run"], 4 * 300);
    assert_eq!(r["server"]["kind"], "remote");
    assert_eq!(r["server"]["url"], remote.url.as_str());
    assert_eq!(r["workload"]["params"]["server"], "remote");
    assert_eq!(r["workload"]["params"]["tls"], false);
    assert_eq!(cost(&r, "requests"), 4);
    assert_eq!(cost(&r, "tls_handshakes"), 0);
    assert!(!r["server"]["cost"]["cpus"].as_array().unwrap().is_empty());
}

#[test]
fn pinned_sides_run_on_their_cpus_and_the_record_says_so() {
    let r = download(
        "threads",
        "2",
        &["--client-cpus", "0", "--server-cpus", "0"],
    );
    assert_eq!(r["tasks"]["ok"], 2, "{}", r["tasks"]);
    assert_eq!(r["client_cpus"], serde_json::json!([0]));
    assert_eq!(r["server"]["cost"]["cpus"], serde_json::json!([0]));
    // A pinned client sees one CPU.
    assert_eq!(r["machine"]["logical_cores"], 1);
}

#[test]
fn serve_tls_writes_its_certificate_and_answers_stats() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let server = Server::start(&["--tls", "--cert-out", cert.to_str().unwrap()]);
    assert_eq!(server.cert.as_deref(), Some(cert.as_path()));
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // Over plain TCP the TLS server answers no HTTP: a client that forgets TLS fails fast.
    let plain = server.url.replace("https://", "http://");
    let r = download("threads", "1", &["--server", &plain]);
    assert_eq!(r["tasks"]["ok"], 0, "{}", r["tasks"]);
    drop(server);
    // A server that made its own certificate file removes it when it exits.
    let server = Server::start(&["--tls"]);
    let own = server.cert.clone().unwrap();
    assert!(own.exists());
    drop(server);
    assert!(!own.exists(), "{} outlived the server", own.display());
}

#[test]
fn compare_io_shares_one_tls_server_with_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.json");
    let (table, c) = common::compare_into(
        &out,
        "io --runtimes smol,threads --workers 1 --tasks 2 --repeat 1 --writes 1 --latency 1ms --page-size 500 --tls --connections reuse --concurrency 1",
    );
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{}", c["failures"]);
    for r in runs {
        assert_eq!(r["tasks"]["ok"], 2, "{}", r["tasks"]);
        assert_eq!(r["server"]["kind"], "shared");
        assert_eq!(r["server"]["tls"], true);
        assert_eq!(cost(r, "connections"), 1, "{}", r["server"]);
    }
    assert!(
        c["command"].to_string().contains("--tls"),
        "{}",
        c["command"]
    );
    // The server's cost stands beside the client's in the summary and the table.
    for cell in c["summary"].as_array().unwrap() {
        assert!(cell["server_cores_used"].as_f64().unwrap() >= 0.0, "{cell}");
        assert_eq!(cell["server_connections"], 1.0, "{cell}");
    }
    assert!(table.contains("server cores"), "{table}");
}

#[test]
fn compare_io_compares_new_and_kept_connections_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.json");
    let (table, c) = common::compare_into(
        &out,
        "io --runtimes serial,smol,threads --workers 2 --tasks 4 --repeat 1 --writes 1 --latency 1ms --page-size 500 --tls --connections new,reuse",
    );
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6, "{}", c["failures"]);
    let mut ways = std::collections::BTreeMap::new();
    for r in runs {
        assert_eq!(r["tasks"]["ok"], 4, "{}", r["tasks"]);
        let way = r["workload"]["params"]["connections"].as_str().unwrap();
        *ways.entry(way.to_string()).or_insert(0) += 1;
        // A new connection per download, or at most one per task in flight when kept: serial
        // has one in flight, threads two, smol all four.
        let conns = cost(r, "connections");
        let most = match (way, r["runtime"].as_str().unwrap()) {
            ("new", _) | (_, "smol") => 4,
            (_, "threads") => 2,
            _ => 1,
        };
        match way {
            "new" => assert_eq!(conns, 4, "{}", r["server"]),
            _ => assert!(
                (1..=most).contains(&conns),
                "{}: {}",
                r["runtime"],
                r["server"]
            ),
        }
    }
    assert_eq!(ways, [("new".into(), 3), ("reuse".into(), 3)].into());
    // Each way is its own group: its own baseline, its own verdicts.
    let labels: std::collections::BTreeSet<&str> = c["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["workload"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["io download", "io download (reuse)"].into());
    for v in c["verdict"].as_array().unwrap() {
        assert!(labels.contains(v["workload"].as_str().unwrap()), "{v}");
    }
    for way in ["io download", "io download (reuse)"] {
        assert!(
            c["verdict"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["workload"] == way),
            "no verdict for {way}"
        );
    }
    assert!(table.contains("io download (reuse)"), "{table}");
    assert!(
        !c["command"].to_string().contains("--connections"),
        "{}",
        c["command"]
    );
    // Each way's plots are files of their own: neither overwrites the other's.
    let plots = dir.path().join("plots");
    let report = common::asyncstudy()
        .args(["report", out.to_str().unwrap(), "--plots"])
        .arg(&plots)
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0), "{report:?}");
    let names: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for rt in ["smol", "threads"] {
        for way in ["", "-reuse"] {
            let name = format!("timeline-io-download{way}-{rt}-w2-t4.svg");
            assert!(names.contains(&name), "no {name} in {names:?}");
        }
    }
}
