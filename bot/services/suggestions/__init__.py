"""社情民意: suggestions and complaints, answered and fixed (反馈—整改—闭环)."""
