"""Interpretation of trained models (DESIGN.md, tools on trained models).

``filter_motifs`` turns the first convolution layer's filters into position frequency
matrices from the subsequences that activate them (Basset, Kelley et al. 2016; DanQ,
Quang & Xie 2016), writes them in MEME format with sequence logos, and matches them
against JASPAR with a TomTom-like comparison (Gupta et al. 2007).
"""
