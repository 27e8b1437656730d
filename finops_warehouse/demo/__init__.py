"""Demo data generator: a fictional company's AWS, Azure and GCP billing exports, business events and labels.

Usage::

    from finops_warehouse.demo import generate_demo, DemoResult
    result = generate_demo(Path("demo_data"), days=90, seed=42, scale="small")
"""

from finops_warehouse.demo.generate import DemoResult, generate_demo

__all__ = ["DemoResult", "generate_demo"]
