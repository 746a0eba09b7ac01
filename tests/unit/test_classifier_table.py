"""The classifier against a second table of bank and payment texts per language, worded afresh.

Beside ``test_classifier_languages.py``: other phrasings (the code before its wording, codes
split as 123-456, prefixed as G-123456, alphanumeric, in Arabic-Indic or Devanagari digits,
Vietnamese without diacritics), and non-OTPs that put a number next to what makes it
something else: an amount and its currency, a card ending, a date (a year after a month
name, too), a time, an order or tracking number, a phone number, a promotion code.
"""

from __future__ import annotations

import pytest

from policies.classifier import classify, redact

# language -> (text, the code it carries)
OTPS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("PayBank: 318-204 is your login code. It expires in 10 minutes.", "318-204"),
        ("Use verification code 70215583 to approve the $42.10 payment to ACME Ltd.", "70215583"),
        ("Your one-time passcode for NorthPay is 552910. Don't share it with anyone.", "552910"),
        ("NorthPay code: Q7M2X9. Enter it to confirm your new device.", "Q7M2X9"),
        ("G-481726 is your Google verification code.", "G-481726"),
        ("Do not share: your sign-in code is 6624 (valid 5 min).", "6624"),
        ("Authorise your £250.00 transfer to J SMITH with one-time password 83920146.", "83920146"),
        ("Your OTP for order 5531 is 772019", "772019"),
    ],
    "zh": [
        ("【招商银行】验证码：529014，您正在进行快捷支付，请勿向任何人提供。", "529014"),
        ("您的登录验证码是 A7K9Q2，3分钟内有效。", "A7K9Q2"),
        ("【支付宝】校验码 7731，您正在修改支付密码，切勿泄露。", "7731"),
        ("动态码 48291305，用于网银转账5000.00元，请勿告诉他人。", "48291305"),
        ("【京东】安全码 305-118，请在页面中输入完成验证。", "305-118"),
        ("您的短信码为 660213，如非本人操作，请拨打95588。", "660213"),
    ],
    "zh_hant": [
        ("【玉山銀行】您的網路銀行登入驗證碼為 731026，請勿告知他人。", "731026"),
        ("動態密碼：4418，您正在進行約定轉帳，10分鐘內有效。", "4418"),
        ("您的交易確認碼為 G-603917，請於3分鐘內輸入。", "G-603917"),
        ("【LINE Pay】認證碼 85207713，切勿提供給任何人。", "85207713"),
        ("一次性密碼 229-601，用於綁定新裝置。", "229-601"),
    ],
    "es": [
        ("BBVA: tu código de acceso es 619204. No lo compartas con nadie.", "619204"),
        ("Tu código de confirmación es 4402 para la compra de 59,90 EUR en Amazon.", "4402"),
        ("Clave dinámica: A7K9Q2. Válida durante 5 minutos.", "A7K9Q2"),
        ("Santander: introduce el código 305-772 en la app para autorizar el pago.", "305-772"),
        ("Tu código de verificación de Mercado Pago: 88120453", "88120453"),
        ("Su clave de un solo uso es 7731. Caduca en 3 minutos.", "7731"),
    ],
    "pt": [
        ("Nubank: seu código de acesso é 480219. Não compartilhe com ninguém.", "480219"),
        ("Itaú: use o token 7731 para liberar o Pix de R$ 350,00.", "7731"),
        ("Seu código de verificação do Mercado Pago é G-510382.", "G-510382"),
        ("Código de segurança: 206-914. Válido por 5 minutos.", "206-914"),
        ("Digite o código A7K9Q2 no app para confirmar o novo dispositivo.", "A7K9Q2"),
        ("O código de confirmação da sua compra é 66201843.", "66201843"),
    ],
    "fr": [
        ("BNP Paribas : votre code de sécurité est 482913. Ne le communiquez jamais.", "482913"),
        ("Code de vérification Lydia : 7731", "7731"),
        ("Pour valider votre virement de 250,00 EUR, saisissez le code 63019254.", "63019254"),
        ("Votre code d'accès temporaire : A7K9Q2", "A7K9Q2"),
        ("Crédit Agricole : 305-618 est votre code de confirmation.", "305-618"),
        ("Votre code à usage unique est 5520. Il expire dans 10 minutes.", "5520"),
    ],
    "de": [
        ("Deutsche Bank: Ihre mobileTAN für die Überweisung an M. Weber lautet 482913.", "482913"),
        ("Dein Code für die Anmeldung bei N26: 7731. Gib ihn niemals weiter.", "7731"),
        ("Sicherheitscode: A7K9Q2 – gültig für 10 Minuten.", "A7K9Q2"),
        ("Ihr Einmal-Passwort lautet 305-118.", "305-118"),
        ("Bitte geben Sie den Bestätigungscode 66201843 in der App ein.", "66201843"),
        ("Commerzbank: Verwenden Sie 551902 als Anmeldecode.", "551902"),
    ],
    "ru": [
        ("Никому не говорите код 482913! Вход в Т-Банк.", "482913"),
        ("Ваш код для входа в Госуслуги: 7731", "7731"),
        ("Оплата 1 250 руб. в магазине OZON. Код подтверждения: 305118", "305118"),
        ("Одноразовый пароль A7K9Q2. Не сообщайте его сотрудникам банка.", "A7K9Q2"),
        ("Пароль для подтверждения входа: 66201843", "66201843"),
        ("Код доступа 221-904, действует 5 минут.", "221-904"),
    ],
    "ar": [
        ("رمز التحقق لمرة واحدة: 482913. لا تشاركه مع أي شخص.", "482913"),
        ("مصرف الراجحي: رمز الدخول 7731 صالح لمدة 3 دقائق.", "7731"),
        ("رمز التفعيل الخاص بك: A7K9Q2", "A7K9Q2"),
        ("رمز التأكيد لعملية الدفع بقيمة 250 ريال هو ٦٦٢٠١٨٤٣", "٦٦٢٠١٨٤٣"),
        ("STC Pay: رمز التحقق 305-118", "305-118"),
        ("أدخل الرمز 551902 لإتمام عملية الشراء", "551902"),
        ("كلمة مرور لمرة واحدة 904417 لتسجيل الدخول", "904417"),
    ],
    "hi": [
        ("482913 आपका ओटीपी है। इसे किसी के साथ साझा न करें। - SBI", "482913"),
        ("HDFC Bank: ₹2,500 के लेनदेन के लिए OTP 7731 है।", "7731"),
        ("आपका लॉगिन कोड A7K9Q2 है, 10 मिनट तक मान्य।", "A7K9Q2"),
        ("Paytm: आपका वेरिफिकेशन कोड 305-118 है।", "305-118"),
        ("सत्यापन कोड: ६६२०१८४३। किसी को न बताएं।", "६६२०१८४३"),
        ("UPI पिन बदलने के लिए वन टाइम पासवर्ड 551902 दर्ज करें।", "551902"),
    ],
    "id": [
        ("JANGAN MEMBERITAHU KODE INI KE SIAPAPUN termasuk pihak Bank. Kode OTP: 482913", "482913"),
        ("Kode verifikasi GoPay kamu 7731. Berlaku 5 menit.", "7731"),
        ("BCA: Kode rahasia A7K9Q2 untuk aktivasi m-BCA.", "A7K9Q2"),
        ("Masukkan kode 305-118 untuk masuk ke akun Tokopedia Anda.", "305-118"),
        ("Kode keamanan transaksi Rp 250.000 adalah 66201843.", "66201843"),
        ("OTP Anda 551902. Rahasiakan kode ini.", "551902"),
    ],
    "tr": [
        ("Garanti BBVA: Tek kullanımlık şifreniz 482913. Kimseyle paylaşmayınız.", "482913"),
        ("Giriş kodunuz: 7731. Kodunuzu kimseyle paylaşmayın.", "7731"),
        ("İşlem onay kodu A7K9Q2, 3 dakika geçerlidir.", "A7K9Q2"),
        ("Trendyol hesabınız için doğrulama kodu: 305-118", "305-118"),
        ("1.250,00 TL tutarındaki alışverişiniz için SMS şifreniz 66201843'tür.", "66201843"),
        ("551902 numaralı doğrulama kodunu kimseyle paylaşmayın.", "551902"),
    ],
    "vi": [
        ("Vietcombank: Mã OTP của Quý khách là 482913. Không cung cấp cho bất kỳ ai.", "482913"),
        ("Mã xác thực giao dịch 5.000.000 VND là 7731.", "7731"),
        ("MoMo: Mã xác nhận của bạn là A7K9Q2.", "A7K9Q2"),
        ("Nhập mã 305-118 để đăng nhập ứng dụng Techcombank.", "305-118"),
        ("Mã bảo mật: 66201843, có hiệu lực trong 5 phút.", "66201843"),
        ("Ma xac thuc cua ban la 551902, hieu luc 3 phut.", "551902"),
    ],
}

NON_OTPS: dict[str, list[str]] = {
    "en": [
        "You paid £48.20 with your card ending 4821 at Costa Coffee on 03/11.",
        "Your order #4471982 has been dispatched. Track it with 1Z999AA10123456784.",
        "Your direct debit of 125.00 GBP will be taken on 15 December 2026.",
        "Missed call from +44 7700 900123. Call back free on 0800 0321 456.",
        "Black Friday: 40% off every plan with promo code BF2026X. Ends Sunday.",
        "Your statement for account 12345678 is ready to view in the app.",
        "You received 2500 USD from ACME Payroll at 09:41.",
        "From 1 December 2026, OTPs will be sent from the sender ID PAYBANK.",
        "Never share your verification code. Questions? Call 0800 123 4567.",
    ],
    "zh": [
        "【建设银行】您尾号4821的储蓄卡11月25日14:20支出人民币356.00元，余额12,480.55元。",
        "您的订单号 88102734 已支付成功，金额 89.90 元。",
        "您预约的2026年12月3日 09:30 门诊已确认。",
        "会员日全场满300减50，详情请拨打 400-820-8820。",
        "双12狂欢，充值100元送20元话费，回复TD退订。",
        "您收到一笔转账 2500元，请查收。",
        "验证码服务将于2026年12月3日升级。",
    ],
    "zh_hant": [
        "您尾號4821的信用卡於11/25刷卡消費NT$1,280。",
        "訂單 50281734 已完成付款。",
        "您的掛號時間為12月3日上午09:30，號碼 27。",
        "如有疑問，請撥打客服專線 02-2182-1313。",
        "雙11限定！全館商品85折，回覆N取消訂閱。",
        "您本期帳單金額 3,560 元，繳款截止日 2026/12/15。",
    ],
    "es": [
        "Compra aprobada por 1.250,00 MXN con tu tarjeta terminada en 4821.",
        "Tu pedido nº 5573019 llegará mañana. Seguimiento: ES204481137.",
        "Recordatorio: tu cita es el 03/12/2026 a las 10:15.",
        "Llámanos al 900 102 801 o escríbenos por WhatsApp.",
        "¡Solo hoy! 2x1 en todas las pizzas con el cupón PIZZA2X1.",
        "Has recibido una transferencia de 2500 EUR en tu cuenta.",
        "A partir del 3 de diciembre de 2026 tu código llegará por la app.",
    ],
    "pt": [
        "Compra de R$ 89,90 aprovada no cartão final 4821, em 25/11 às 14:32.",
        "Seu pedido 77104452 saiu para entrega. Rastreamento: BR123456789BR.",
        "Sua fatura de 1.250,00 reais vence em 10/12/2026.",
        "Dúvidas? Ligue 4004 0001 (capitais) ou 0800 722 0001.",
        "Black Friday: até 70% de desconto em toda a loja!",
        "Você recebeu um Pix de 1500 reais de MARIA SILVA.",
    ],
    "fr": [
        "Paiement de 48,20 EUR par carte se terminant par 4821 accepté.",
        "Votre colis n° 6A12345678901 sera livré demain entre 9h et 13h.",
        "Rappel : rendez-vous le 03/12/2026 à 10:15 chez le Dr Martin.",
        "Votre commande 40217735 a été expédiée.",
        "Une question ? Appelez le 3639 (service gratuit + prix d'un appel).",
        "Offre spéciale : -30 % sur votre forfait mobile jusqu'à dimanche !",
        "Votre solde est de 1520 euros au 25/11.",
    ],
    "de": [
        "Kartenzahlung über 48,20 EUR mit Ihrer Karte endend auf 4821.",
        "Ihre Sendung 00340434161094042557 wird heute zugestellt.",
        "Ihr Termin am 03.12.2026 um 10:15 Uhr wurde bestätigt.",
        "Ihr Code für 10% Rabatt: SPAR2026",
        "Rufen Sie uns an: 0800 330 1000.",
        "Gutschrift von 2500 EUR auf Ihrem Konto eingegangen.",
        "Ab dem 3. Dezember 2026 kommt Ihr Code per App.",
    ],
    "ru": [
        "Списание 3 499 ₽ по карте MIR-4821, баланс 12 480,55 ₽.",
        "Заказ № 40217735 передан в службу доставки.",
        "Напоминаем: приём врача 03.12.2026 в 10:15.",
        "Горячая линия: 8 800 100 2244, звонок бесплатный.",
        "Только до воскресенья скидка 20% на все тарифы!",
        "Зачисление 2500 руб. на ваш счёт.",
        "С 1 декабря 2026 г. коды подтверждения приходят с номера 900.",
    ],
    "ar": [
        "تمت عملية شراء بمبلغ 350 ريال ببطاقتك المنتهية بـ 4821.",
        "تم شحن طلبك رقم 40217735 وسيصل خلال يومين.",
        "موعدك في العيادة يوم 03/12/2026 الساعة 10:15.",
        "لخدمة العملاء اتصل على 800 124 0000",
        "عرض الجمعة البيضاء: خصم 40% على جميع الباقات!",
        "تم إيداع 5000 ريال في حسابك.",
    ],
    "hi": [
        "आपके खाते XX4821 से ₹1,250.00 डेबिट हुए।",
        "आपका ऑर्डर 40217735 कल तक पहुँच जाएगा।",
        "आपकी ट्रेन 12951 दिनांक 03/12/2026 को 16:55 बजे रवाना होगी।",
        "ग्राहक सेवा के लिए 1800 425 3800 पर कॉल करें।",
        "दिवाली ऑफर: सभी मोबाइल पर 30% तक की छूट!",
        "₹5000 का कैशबैक आपके वॉलेट में जमा किया गया।",
    ],
    "id": [
        "Pembayaran Rp 125.000 dengan kartu kredit ****4821 berhasil.",
        "Paket Anda dengan nomor resi JNE 0112233445566 sedang dikirim.",
        "Jadwal vaksin Anda: 03/12/2026 pukul 10.15 WIB.",
        "Butuh bantuan? Hubungi Halo BCA 1500888.",
        "Promo 12.12! Cashback 50% untuk pembelian pulsa.",
        "Pesanan #40217735 telah diterima penjual.",
    ],
    "tr": [
        "Sonu 4821 ile biten kartınızla 349,90 TL harcama yapılmıştır.",
        "Siparişiniz 40217735 numarasıyla kargoya verildi.",
        "Randevunuz 03.12.2026 tarihinde saat 10:15'te.",
        "Müşteri hizmetlerimize 444 0 333 numarasından ulaşabilirsiniz.",
        "Efsane Cuma! Tüm telefonlarda %30 indirim.",
        "Hesabınıza 2500 TL havale geldi.",
    ],
    "vi": [
        "Thẻ ****4821 thanh toán 250.000đ tại Circle K lúc 14:32 25/11.",
        "Đơn hàng 40217735 của bạn đang được giao.",
        "Lịch khám của bạn lúc 10:15 ngày 03/12/2026.",
        "Vui lòng gọi hotline 1900 545 413 để được hỗ trợ.",
        "Ưu đãi 12.12: giảm 50% cước data, soạn DATA50 gửi 9123.",
        "TK 0071000123456 +5,000,000 VND. SD: 12,480,550 VND.",
        "Mã OTP sẽ được gửi từ ngày 3 tháng 12 năm 2026.",
    ],
}

LANGUAGES = {"en", "zh", "zh_hant", "es", "pt", "fr", "de", "ru", "ar", "hi", "id", "tr", "vi"}


@pytest.mark.parametrize(
    ("language", "text", "code"),
    [(lang, text, code) for lang, cases in OTPS.items() for text, code in cases],
)
def test_otp_is_found_and_its_code_redacted(language: str, text: str, code: str) -> None:
    result = classify(text)
    assert result.is_otp, f"{language}: missed {text!r}"
    assert code not in redact(text, result.code_spans)


@pytest.mark.parametrize(
    ("language", "text"), [(lang, text) for lang, texts in NON_OTPS.items() for text in texts]
)
def test_non_otp_is_not_an_otp(language: str, text: str) -> None:
    assert not classify(text).is_otp, f"{language}: false OTP {text!r}"


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        # the order word names 5531, the number right after it
        ("Your OTP for order 5531 is 772019", ["772019"]),
        ("Your verification code is 482913. Call 0800 123 4567 if this was not you.", ["482913"]),
        ("OTP 772019 for txn of Rs 4500 on card XX4821", ["772019"]),
        ("OTP 772019 for txn of Rs.4500", ["772019"]),
        # "try" ends "entry" but is no Turkish lira there
        ("Gate entry 6720 is your one-time code for today.", ["6720"]),
        ("Starting December 1, 2026 your verification code is 482913.", ["482913"]),
        ("İşlem onay kodu A7K9Q2, 3 dakika geçerlidir.", ["A7K9Q2"]),
    ],
)
def test_the_spans_are_the_codes(text: str, codes: list[str]) -> None:
    result = classify(text)
    assert [text[start:end] for start, end in result.code_spans] == codes


def test_every_language_has_five_of_each() -> None:
    assert set(OTPS) == set(NON_OTPS) == LANGUAGES
    assert all(len(cases) >= 5 for cases in (*OTPS.values(), *NON_OTPS.values()))
