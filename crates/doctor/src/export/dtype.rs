//! Element types: torch's and numpy's names mapped to safetensors' (export.md §1.2).

/// A safetensors dtype, with its size. Only the types torch or numpy can hand us are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dtype {
    /// `bool`.
    Bool,
    /// `float4_e2m1fn_x2`: two 4-bit floats per byte; safetensors' F4 counts the 4-bit
    /// values, so the last dimension doubles.
    F4,
    /// `uint8`.
    U8,
    /// `int8`.
    I8,
    /// `float8_e5m2`.
    F8E5m2,
    /// `float8_e4m3fn`.
    F8E4m3,
    /// `float8_e8m0fnu`.
    F8E8m0,
    /// `float8_e4m3fnuz`.
    F8E4m3Fnuz,
    /// `float8_e5m2fnuz`.
    F8E5m2Fnuz,
    /// `int16`.
    I16,
    /// `uint16`.
    U16,
    /// `float16`.
    F16,
    /// `bfloat16`.
    Bf16,
    /// `int32`.
    I32,
    /// `uint32`.
    U32,
    /// `float32`.
    F32,
    /// `complex64`: safetensors has it, but torch's exporters refuse complex; so do we.
    C64,
    /// `float64`.
    F64,
    /// `int64`.
    I64,
    /// `uint64`.
    U64,
}

impl Dtype {
    /// The name in a safetensors header.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "BOOL",
            Dtype::F4 => "F4",
            Dtype::U8 => "U8",
            Dtype::I8 => "I8",
            Dtype::F8E5m2 => "F8_E5M2",
            Dtype::F8E4m3 => "F8_E4M3",
            Dtype::F8E8m0 => "F8_E8M0",
            Dtype::F8E4m3Fnuz => "F8_E4M3FNUZ",
            Dtype::F8E5m2Fnuz => "F8_E5M2FNUZ",
            Dtype::I16 => "I16",
            Dtype::U16 => "U16",
            Dtype::F16 => "F16",
            Dtype::Bf16 => "BF16",
            Dtype::I32 => "I32",
            Dtype::U32 => "U32",
            Dtype::F32 => "F32",
            Dtype::C64 => "C64",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
            Dtype::U64 => "U64",
        }
    }

    /// Bytes per element of the source (for F4, per pair of 4-bit values).
    #[must_use]
    pub fn size(self) -> u64 {
        match self {
            Dtype::Bool
            | Dtype::F4
            | Dtype::U8
            | Dtype::I8
            | Dtype::F8E5m2
            | Dtype::F8E4m3
            | Dtype::F8E8m0
            | Dtype::F8E4m3Fnuz
            | Dtype::F8E5m2Fnuz => 1,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::C64 | Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
        }
    }

    /// The reference writer's order: by descending enum order of the safetensors crate
    /// (BOOL < F4 < ... < U8 < I8 < F8_E5M2 < F8_E4M3 < F8_E8M0 < F8_E4M3FNUZ < F8_E5M2FNUZ <
    /// I16 < U16 < F16 < BF16 < I32 < U32 < F32 < C64 < F64 < I64 < U64), which this enum
    /// follows.
    #[must_use]
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// A torch dtype (`torch.float32`), or why it cannot be exported.
    ///
    /// # Errors
    /// Complex, quantized and types safetensors lacks.
    pub fn from_torch(name: &str) -> Result<Dtype, String> {
        let short = name.strip_prefix("torch.").unwrap_or(name);
        Ok(match short {
            "bool" => Dtype::Bool,
            "float4_e2m1fn_x2" => Dtype::F4,
            "uint8" => Dtype::U8,
            "int8" => Dtype::I8,
            "float8_e5m2" => Dtype::F8E5m2,
            "float8_e4m3fn" => Dtype::F8E4m3,
            "float8_e8m0fnu" => Dtype::F8E8m0,
            "float8_e4m3fnuz" => Dtype::F8E4m3Fnuz,
            "float8_e5m2fnuz" => Dtype::F8E5m2Fnuz,
            "int16" | "short" => Dtype::I16,
            "uint16" => Dtype::U16,
            "float16" | "half" => Dtype::F16,
            "bfloat16" => Dtype::Bf16,
            "int32" | "int" => Dtype::I32,
            "uint32" => Dtype::U32,
            "float32" | "float" => Dtype::F32,
            "float64" | "double" => Dtype::F64,
            "int64" | "long" => Dtype::I64,
            "uint64" => Dtype::U64,
            "complex32" | "complex64" | "complex128" | "cfloat" | "cdouble" | "chalf" => {
                return Err(format!(
                    "complex dtype {name}: safetensors consumers (torch's loaders included) do not read complex tensors back; split it into real and imaginary parts in Python"
                ));
            }
            "quint8" | "qint8" | "qint32" | "quint4x2" | "quint2x4" => {
                return Err(format!(
                    "quantized dtype {name}: its scale and zero point have no place in safetensors; dequantize it in Python first"
                ));
            }
            _ => return Err(format!("dtype {name} has no safetensors equivalent")),
        })
    }

    /// A numpy typestr (`<f4`, `|b1`, `>i8`), or why it cannot be exported.
    ///
    /// # Errors
    /// Big-endian, structured, object, complex, string and datetime dtypes.
    pub fn from_numpy(descr: &str) -> Result<Dtype, String> {
        let (order, code) = match descr.as_bytes().first() {
            Some(b'<' | b'|' | b'=') => (b'<', &descr[1..]),
            Some(b'>') => (b'>', &descr[1..]),
            _ => (b'<', descr),
        };
        let dtype = match code {
            "b1" | "?" => Dtype::Bool,
            "u1" | "B" => Dtype::U8,
            "i1" | "b" => Dtype::I8,
            "i2" => Dtype::I16,
            "u2" => Dtype::U16,
            "f2" => Dtype::F16,
            "i4" => Dtype::I32,
            "u4" => Dtype::U32,
            "f4" => Dtype::F32,
            "f8" => Dtype::F64,
            "i8" => Dtype::I64,
            "u8" => Dtype::U64,
            _ => return Err(format!("numpy dtype {descr} has no safetensors equivalent")),
        };
        if order == b'>' && dtype.size() > 1 {
            return Err(format!(
                "big-endian dtype {descr}: safetensors is little-endian; convert with arr.astype(arr.dtype.newbyteorder('<')) in Python"
            ));
        }
        Ok(dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_follows_the_reference_writers_enum_order() {
        let order = [
            Dtype::Bool,
            Dtype::F4,
            Dtype::U8,
            Dtype::I8,
            Dtype::F8E5m2,
            Dtype::F8E4m3,
            Dtype::F8E8m0,
            Dtype::F8E4m3Fnuz,
            Dtype::F8E5m2Fnuz,
            Dtype::I16,
            Dtype::U16,
            Dtype::F16,
            Dtype::Bf16,
            Dtype::I32,
            Dtype::U32,
            Dtype::F32,
            Dtype::C64,
            Dtype::F64,
            Dtype::I64,
            Dtype::U64,
        ];
        assert!(order.windows(2).all(|w| w[0].rank() < w[1].rank()));
    }

    #[test]
    fn numpy_names() {
        assert_eq!(Dtype::from_numpy("<f4"), Ok(Dtype::F32));
        assert_eq!(Dtype::from_numpy("|b1"), Ok(Dtype::Bool));
        assert_eq!(Dtype::from_numpy(">u1"), Ok(Dtype::U8));
        assert!(Dtype::from_numpy(">f8").is_err());
        assert!(Dtype::from_numpy("<c16").is_err());
        assert!(Dtype::from_numpy("|O").is_err());
    }
}
