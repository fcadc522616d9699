//! `POST /hash`: a CPU-bound argon2id password hash, the chapter's example of heavy CPU work.
//!
//! Body: `{"password": "...", "cost": N}`. **`cost` is argon2's time cost `t_cost`** (passes
//! over memory) with memory fixed at 19 MiB and one lane, OWASP's recommended argon2id
//! setting; the default cost 2 is exactly that recommendation (tens of ms in release). Cost
//! scales work linearly while memory per request stays bounded, which is why it is the knob
//! rather than `m_cost`. The hash runs through [`Backend::run_cpu`] (the model's offload
//! policy). The content type is not checked; a body that is not the JSON above is a 400.

use crate::error::{AppError, AppResult};
use crate::json;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use clab_backend::Backend;
use serde::{Deserialize, Serialize};

/// Memory cost in KiB (19 MiB, OWASP's argon2id recommendation).
pub const HASH_MEMORY_KIB: u32 = 19 * 1024;
/// Accepted `cost` (argon2 `t_cost`): 1 to 10 passes; beyond that one request is a DoS.
pub const HASH_COST_RANGE: std::ops::RangeInclusive<u32> = 1..=10;
/// `cost` when the request gives none.
pub const HASH_DEFAULT_COST: u32 = 2;
/// Longest accepted password, in bytes.
pub const HASH_MAX_PASSWORD: usize = 1024;

#[derive(Deserialize)]
struct HashRequest {
    password: String,
    #[serde(default)]
    cost: Option<u32>,
}

#[derive(Serialize)]
struct HashResponse {
    /// PHC string: `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
    hash: String,
    cost: u32,
    memory_kib: u32,
}

pub(crate) async fn hash_password<B: Backend>(backend: &B, body: &[u8]) -> AppResult {
    let req: HashRequest = json::parse_body(body)?;
    let cost = req.cost.unwrap_or(HASH_DEFAULT_COST);
    if !HASH_COST_RANGE.contains(&cost) {
        return Err(AppError::BadRequest(format!(
            "cost must be in {}..={} (argon2 t_cost), got {cost}",
            HASH_COST_RANGE.start(),
            HASH_COST_RANGE.end()
        )));
    }
    if req.password.len() > HASH_MAX_PASSWORD {
        return Err(AppError::BadRequest(format!(
            "password longer than {HASH_MAX_PASSWORD} bytes"
        )));
    }
    let password = req.password;
    let hash = backend
        .run_cpu(move || argon2id(password.as_bytes(), cost))
        .await?;
    json::to_response(
        200,
        &HashResponse {
            hash,
            cost,
            memory_kib: HASH_MEMORY_KIB,
        },
    )
}

/// Hash with argon2id (19 MiB, `t_cost` passes, 1 lane) and a fresh random 16-byte salt;
/// returns the PHC string. The work `POST /hash` does, exposed for benchmarks.
pub fn argon2id(password: &[u8], t_cost: u32) -> Result<String, AppError> {
    let internal = |e: argon2::password_hash::Error| AppError::Internal(format!("argon2: {e}"));
    let params = Params::new(HASH_MEMORY_KIB, t_cost, 1, None)
        .map_err(|e| AppError::Internal(format!("argon2 params: {e}")))?;
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(internal)?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    hasher
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hash_verifies_and_salts_differ() {
        let a = argon2id(b"hunter2", 1).expect("hash");
        let b = argon2id(b"hunter2", 1).expect("hash");
        assert_ne!(a, b, "each hash gets a fresh salt");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=1,p=1$"), "{a}");
        let parsed = PasswordHash::new(&a).expect("PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"hunter2", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"hunter3", &parsed)
                .is_err()
        );
    }
}
