"""The permit certificate (超限运输车辆通行证): PDF and phone image, signed QR code, checks (CT-1 to CT-3)."""
