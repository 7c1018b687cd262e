"""The media relay: an aiortc SFU that forwards students' encoded video and audio to teacher
viewers without re-encoding, taps decoded frames for analysis and keeps a ring buffer of
encoded packets for evidence clips. Knows nothing of tests or violations."""
