//! Element types for export: torch's and numpy's names mapped to safetensors'
//! ([`container::safetensors::Dtype`], whose order is the reference writer's), with the reason
//! when a type cannot be exported.

pub use container::safetensors::Dtype;

/// Bytes per element of the source view: `bits / 8`, except F4, whose torch type
/// (`float4_e2m1fn_x2`) packs two values in each one-byte element.
#[must_use]
pub fn source_size(d: Dtype) -> u64 {
    match d {
        Dtype::F4 => 1,
        d => (d.bits() / 8).max(1),
    }
}

/// A torch dtype (`torch.float32`), or why it cannot be exported.
///
/// # Errors
/// Complex, quantized and types safetensors lacks.
pub fn from_torch(name: &str) -> Result<Dtype, String> {
    let short = name.strip_prefix("torch.").unwrap_or(name);
    if short.starts_with("complex") || matches!(short, "cfloat" | "cdouble" | "chalf") {
        return Err(format!(
            "complex dtype {name}: torch's safetensors loaders do not read complex tensors back; split it into real and imaginary parts in Python"
        ));
    }
    if short.starts_with("qint") || short.starts_with("quint") {
        return Err(format!(
            "quantized dtype {name}: its scale and zero point have no place in safetensors; dequantize it in Python first"
        ));
    }
    Dtype::from_torch(short).ok_or_else(|| format!("dtype {name} has no safetensors equivalent"))
}

/// A numpy typestr (`<f4`, `|b1`, `>i8`), or why it cannot be exported.
///
/// # Errors
/// Big-endian, complex, structured, object, string and datetime dtypes.
pub fn from_numpy(descr: &str) -> Result<Dtype, String> {
    let (order, code) = match descr.as_bytes().first() {
        Some(b'<' | b'=') => ('<', &descr[1..]),
        Some(b'|') => ('|', &descr[1..]),
        Some(b'>') => ('>', &descr[1..]),
        _ => ('<', descr),
    };
    if code.starts_with('c') {
        return Err(format!(
            "complex dtype {descr}: torch's safetensors loaders do not read complex tensors back"
        ));
    }
    // One-byte types have no byte order.
    let one_byte = matches!(code, "b1" | "u1" | "i1");
    let normal = if one_byte {
        format!("|{code}")
    } else {
        format!("<{code}")
    };
    let Some(dtype) = Dtype::from_numpy_descr(&normal) else {
        return Err(format!("numpy dtype {descr} has no safetensors equivalent"));
    };
    if order == '>' && !one_byte {
        return Err(format!(
            "big-endian dtype {descr}: safetensors is little-endian; convert with arr.astype(arr.dtype.newbyteorder('<')) in Python"
        ));
    }
    Ok(dtype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_names() {
        assert_eq!(from_numpy("<f4"), Ok(Dtype::F32));
        assert_eq!(from_numpy("|b1"), Ok(Dtype::Bool));
        assert_eq!(from_numpy(">u1"), Ok(Dtype::U8));
        assert!(from_numpy(">f8").unwrap_err().contains("big-endian"));
        assert!(from_numpy("<c16").unwrap_err().contains("complex"));
        assert!(from_numpy("|O").is_err());
        assert!(from_numpy("<M8[ns]").is_err());
    }

    #[test]
    fn torch_names() {
        assert_eq!(from_torch("torch.bfloat16"), Ok(Dtype::BF16));
        assert_eq!(from_torch("torch.float4_e2m1fn_x2"), Ok(Dtype::F4));
        assert_eq!(source_size(Dtype::F4), 1);
        assert_eq!(source_size(Dtype::F64), 8);
        assert!(
            from_torch("torch.complex64")
                .unwrap_err()
                .contains("complex")
        );
        assert!(from_torch("torch.qint8").unwrap_err().contains("quantized"));
    }
}
