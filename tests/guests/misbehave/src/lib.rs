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
            "log" => {
                hangar_sdk::log::info("misbehave logs", &[("arg", arg)]);
                Outcome::allow()
            }
            _ => Outcome::allow(),
        }
    }
}

hangar_sdk::chat_plugin!(Misbehave);
