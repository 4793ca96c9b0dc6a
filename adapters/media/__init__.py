"""Post-processing of clips with PyAV: visible watermark, automatic QC and C2PA provenance.

Every function here is blocking CPU or file work; callers run it off the event loop
(``postprocess.MediaPostProcessor`` does, in its own pool).
"""
