//! Small real media payloads used by the content fixtures: a 16x16 RGB PNG and a short
//! 8 kHz mono WAV tone, both base64-encoded.
//!
//! Pure data: this module must never do IO and never allocate more than a few KiB.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A 16x16 RGB gradient PNG (463 bytes), base64.
pub const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABlklEQVR42g3LQQEAIQgAQSMQwQhEIIIRjEAEIhjBCETguU8jGMEId/Of1hrS6A1tWGM0ZsMb0ViN3chGNU7jNl6jNUGELqhgwhCm4EIIS9hCCiUc4QpP/tCRTu9oxzqjMzveic7q7E52qnM6t/P6HxRRuqKKKUOZiiuhLGUrqZRylKs8/YMhRjfUMGMY03AjjGVsI40yjnGNZ38YyKAPdGCDMZgDH8RgDfYgBzU4gzt44w8TmfSJTmwyJnPik5isyZ7kpCZncidv/sERpzvqmDOc6bgTznK2k045x7nO8z8EEvRAAwtGMAMPIljBDjKo4AQ3ePGHhSz6Qhe2GIu58EUs1mIvclGLs7iLt/6wkU3f6MY2YzM3vonN2uxNbmpzNnfz9h8SSXqiiSUjmYknkaxkJ5lUcpKbvPxDIUUvtLBiFLPwIopV7CKLKk5xi1d/OMihH/Rgh3GYBz/EYR32IQ91OId7eOcPF7n0i17sMi7z4pe4rMu+5KUu53Iv7/7hIY/+0Ic9xmM+/BGP9diPfNTjPO7jPT6GdLgQ8hjYogAAAABJRU5ErkJggg==";

/// A 0.1 s, 440 Hz square wave as an 8-bit mono 8 kHz PCM WAV file.
pub fn wav_bytes() -> Vec<u8> {
    const RATE: u32 = 8000;
    const SAMPLES: u32 = RATE / 10;
    let mut v = Vec::with_capacity(44 + SAMPLES as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + SAMPLES).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&1u16.to_le_bytes()); // mono
    v.extend_from_slice(&RATE.to_le_bytes());
    v.extend_from_slice(&RATE.to_le_bytes()); // byte rate
    v.extend_from_slice(&1u16.to_le_bytes()); // block align
    v.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    v.extend_from_slice(b"data");
    v.extend_from_slice(&SAMPLES.to_le_bytes());
    let half_period = RATE / 440 / 2;
    for i in 0..SAMPLES {
        v.push(if (i / half_period).is_multiple_of(2) {
            0xA0
        } else {
            0x60
        });
    }
    v
}

pub fn wav_base64() -> String {
    STANDARD.encode(wav_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_a_png() {
        let bytes = STANDARD.decode(PNG_BASE64).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn wav_is_a_wav() {
        let b = wav_bytes();
        assert_eq!(&b[..4], b"RIFF");
        assert_eq!(&b[8..12], b"WAVE");
        assert_eq!(
            u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize,
            b.len() - 8
        );
    }
}
