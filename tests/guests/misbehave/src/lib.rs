//! Test-only chat plugin whose behaviour is chosen by the message text.
//! Never shipped: it exists to prove the host's limits and isolation.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use hangar_sdk::{ChatMessage, ChatPlugin, Outcome};

static CALLS: AtomicU64 = AtomicU64::new(0);

struct Misbehave;

impl ChatPlugin for Misbehave {
    fn on_message(msg: ChatMessage) -> Outcome {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        let text = msg.text.as_str();
        let (command, arg) = text.split_once(':').unwrap_or((text, ""));
        match command {
            "loop" => {
                let mut i = 0u64;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "trap" => std::process::abort(),
            "panic" => panic!("misbehave was asked to panic"),
            "kv-set" => {
                let size: usize = arg.parse().unwrap_or(0);
                match hangar_sdk::kv::set("blob", &vec![b'x'; size]) {
                    Ok(()) => Outcome::rewrite("kv-set ok"),
                    Err(err) => Outcome::reject(err.to_string()),
                }
            }
            "kv-many" => {
                // kv-many:N — N separate writes, each a committed transaction.
                let n: usize = arg.parse().unwrap_or(0);
                for i in 0..n {
                    if let Err(err) = hangar_sdk::kv::set(&format!("k{i}"), b"v") {
                        return Outcome::reject(err.to_string());
                    }
                }
                Outcome::rewrite(format!("kv-many {n}"))
            }
            "kv-get" => {
                let len = hangar_sdk::kv::get("blob").map_or(-1, |v| v.len() as i64);
                Outcome::rewrite(format!("kv-get {len}"))
            }
            "kv-delete" => {
                hangar_sdk::kv::delete("blob");
                Outcome::rewrite("kv-delete ok")
            }
            "config" => Outcome::rewrite(hangar_sdk::config::raw()),
            "calls" => Outcome::rewrite(format!("calls {calls}")),
            "replies" => {
                // replies:COUNT:SIZE
                let (count, size) = arg.split_once(':').unwrap_or((arg, "1"));
                let count: usize = count.parse().unwrap_or(0);
                let size: usize = size.parse().unwrap_or(1);
                (0..count).fold(Outcome::allow(), |o, _| o.with_reply("r".repeat(size)))
            }
            "env" => Outcome::rewrite(format!("env {}", std::env::vars().count())),
            "fs" => match std::fs::read_dir("/") {
                Ok(_) => Outcome::rewrite("fs open"),
                Err(err) => Outcome::rewrite(format!("fs denied: {err}")),
            },
            "net" => match std::net::TcpStream::connect("127.0.0.1:9") {
                Ok(_) => Outcome::rewrite("net open"),
                Err(err) => Outcome::rewrite(format!("net denied: {err}")),
            },
            "sleep" => {
                // sleep:MS — a real sleep would outlast any deadline.
                let ms: u64 = arg.parse().unwrap_or(0);
                std::thread::sleep(std::time::Duration::from_millis(ms));
                Outcome::rewrite(format!("slept {ms}"))
            }
            "sleep-forever" => {
                std::thread::sleep(std::time::Duration::MAX);
                Outcome::rewrite("woke up")
            }
            "wait" => {
                // wait:MS — spins until the clock says MS have passed.
                let ms: u128 = arg.parse().unwrap_or(0);
                let start = std::time::Instant::now();
                while start.elapsed().as_millis() < ms {
                    std::hint::spin_loop();
                }
                Outcome::rewrite(format!("waited {ms}"))
            }
            "rewrite-huge" => Outcome::rewrite("x".repeat(arg.parse().unwrap_or(0))),
            "reject-huge" => Outcome::reject("x".repeat(arg.parse().unwrap_or(0))),
            "flag-huge" => Outcome::flag(
                hangar_sdk::Severity::Warning,
                "x".repeat(arg.parse().unwrap_or(0)),
            ),
            "log-flood" => {
                // log-flood:N — N events, each with oversized fields.
                let n: usize = arg.parse().unwrap_or(0);
                let key = "k".repeat(10_000);
                let value = "v".repeat(100_000);
                for _ in 0..n {
                    hangar_sdk::log::warn(&"m".repeat(10_000), &[(key.as_str(), value.as_str())]);
                }
                Outcome::rewrite(format!("logged {n}"))
            }
            "log" => {
                hangar_sdk::log::info("misbehave logs", &[("arg", arg)]);
                Outcome::allow()
            }
            _ => Outcome::allow(),
        }
    }
}

hangar_sdk::chat_plugin!(Misbehave);
