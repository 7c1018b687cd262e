"""The vision core: frames in, observations (faces, head pose, gaze, brightness) out.

Pure: it knows nothing of students or tests. Entry points: create_analyzer() and
FrameBatcher (batches frames from many streams onto worker threads).
"""
