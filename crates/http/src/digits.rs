//! Decimal digits without `format!`: the encoder runs once per response, so it avoids the
//! formatting machinery and writes digits from a small stack buffer.

/// Append the decimal form of `n` to `out`.
pub(crate) fn write_usize(out: &mut Vec<u8>, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::write_usize;

    #[test]
    fn writes_digits() {
        for n in [0usize, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut out = Vec::new();
            write_usize(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
