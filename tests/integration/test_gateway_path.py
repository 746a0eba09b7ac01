"""The message path end to end: ESMEs (smpplib's and ours) -> gateway -> simulator over real TCP."""

from __future__ import annotations

import asyncio

import pytest

from smpp_adapters.client import BindFailed, open_bind
from smpp_adapters.constants import CommandId, CommandStatus, Tag

from .esme import AsyncEsme, SmpplibEsme
from .harness import (
    PASSWORD,
    account,
    gateway_config,
    pending_receipts,
    route,
    running_gateway,
    running_simulator,
    until_async,
)

pytestmark = pytest.mark.asyncio


async def test_a_thousand_messages_through_smpplib_each_get_the_gateway_id_and_its_receipt(
    tmp_path,
):
    async with (
        running_simulator() as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        esme = SmpplibEsme("127.0.0.1", gateway.smpp_port, "bank", PASSWORD)
        await asyncio.to_thread(esme.bind)
        esme.start_reading()
        try:
            for i in range(1000):
                await asyncio.to_thread(esme.submit, f"447400{i:06d}", b"hello %d" % i)
            assert await asyncio.to_thread(esme.wait, lambda: len(esme.responses) >= 1000)
            assert await asyncio.to_thread(esme.wait, lambda: len(esme.receipts) >= 1000)
        finally:
            await asyncio.to_thread(esme.close)
    ids = [r.message_id.decode() for r in esme.responses]
    assert all(r.status == 0 for r in esme.responses)
    assert len(set(ids)) == 1000
    assert all(i.isdigit() and len(i) <= 20 for i in ids)
    receipted = {bytes(r.receipted_message_id).rstrip(b"\0").decode() for r in esme.receipts}
    in_text = {r.short_message.split(b" ")[0].removeprefix(b"id:").decode() for r in esme.receipts}
    assert receipted == set(ids) == in_text
    assert simulator.submitted == 1000


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [
        ("bank", "wrong", CommandStatus.ESME_RINVPASWD),
        # An unknown system_id answers like a wrong password: no telling which ids exist.
        ("nobody", PASSWORD, CommandStatus.ESME_RINVPASWD),
    ],
)
async def test_bad_credentials_get_their_bind_error(tmp_path, system_id, password, status):
    async with (
        running_simulator() as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        with pytest.raises(BindFailed) as failure:
            await open_bind(
                "127.0.0.1",
                gateway.smpp_port,
                AsyncEsme(),
                mode="trx",
                system_id=system_id,
                password=password,
            )
        assert failure.value.command_status == status


async def test_bind_limits_ip_allow_list_and_lockout(tmp_path):
    accounts = (
        account("bank", max_binds=1),
        account("elsewhere", allowed_ips=("10.9.9.0/24",)),
    )
    config = gateway_config(
        tmp_path, (route("r1", 1),), accounts, bind_failures_before_lockout=3, lockout_s=60
    )
    async with running_gateway(config, wait_upstream=False) as gateway:
        port = gateway.smpp_port
        first = await AsyncEsme.bind(port, "bank", PASSWORD)
        with pytest.raises(BindFailed) as over:
            await AsyncEsme.bind(port, "bank", PASSWORD)
        assert over.value.command_status == CommandStatus.ESME_RBINDFAIL
        with pytest.raises(BindFailed) as not_allowed:
            await AsyncEsme.bind(port, "elsewhere", PASSWORD)
        assert not_allowed.value.command_status == CommandStatus.ESME_RBINDFAIL
        first.close()
        for _ in range(3):
            with pytest.raises(BindFailed):
                await AsyncEsme.bind(port, "bank", "guess")
        with pytest.raises(BindFailed) as locked:
            await AsyncEsme.bind(port, "bank", PASSWORD)  # right password, locked address
        assert locked.value.command_status == CommandStatus.ESME_RBINDFAIL


async def test_second_bind_on_a_bound_session_and_submit_before_bind(tmp_path):
    from smpp_adapters.pdu import Pdu

    async with running_gateway(
        gateway_config(tmp_path, (route("r1", 1),)), wait_upstream=False
    ) as gateway:
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.smpp_port)
        from smpp_adapters.pdu import encode

        writer.write(
            encode(
                Pdu(
                    CommandId.SUBMIT_SM,
                    {"destination_addr": "1", "short_message": b"x"},
                    sequence_number=7,
                )
            )
        )
        bind = Pdu(
            CommandId.BIND_TRANSCEIVER,
            {"system_id": "bank", "password": PASSWORD, "interface_version": 0x34},
            sequence_number=8,
        )
        writer.write(encode(bind))
        await writer.drain()
        from smpp_adapters.pdu import decode

        async def read_pdu():
            header = await reader.readexactly(16)
            length = int.from_bytes(header[:4], "big")
            return decode(header + await reader.readexactly(length - 16))

        submit_resp = await asyncio.wait_for(read_pdu(), 5)
        assert (
            submit_resp.command_id,
            submit_resp.command_status,
            submit_resp.sequence_number,
        ) == (CommandId.SUBMIT_SM_RESP, CommandStatus.ESME_RINVBNDSTS, 7)
        bind_resp = await asyncio.wait_for(read_pdu(), 5)
        assert bind_resp.command_status == CommandStatus.ESME_ROK
        bind.sequence_number = 9
        writer.write(encode(bind))
        second = await asyncio.wait_for(read_pdu(), 5)
        assert (second.command_id, second.command_status) == (
            CommandId.BIND_TRANSCEIVER_RESP,
            CommandStatus.ESME_RALYBND,
        )
        writer.close()
        esme.close()


async def test_window_overflow_gets_throttled(tmp_path):
    async with (
        running_simulator(response_delay_s=0.5) as simulator,
        running_gateway(
            gateway_config(tmp_path, (route("r1", simulator.port),), (account("bank", window=5),))
        ) as gateway,
    ):
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=50)
        answers = await asyncio.gather(*(esme.submit() for _ in range(20)))
        statuses = [a.command_status for a in answers]
        assert statuses.count(CommandStatus.ESME_ROK) == 5
        assert statuses.count(CommandStatus.ESME_RTHROTTLED) == 15
        esme.close()


async def test_upstream_killed_mid_stream_then_back(tmp_path):
    async with running_simulator(response_delay_s=0.2) as simulator:
        port = simulator.port
        config = gateway_config(tmp_path, (route("r1", port),))
        async with running_gateway(config) as gateway:
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            in_flight = [asyncio.ensure_future(esme.submit()) for _ in range(30)]
            await asyncio.sleep(0.05)
            await simulator.stop()
            answers = await asyncio.wait_for(asyncio.gather(*in_flight), 15)
            assert all(a is not None for a in answers)  # every outstanding submit got an answer
            after = await esme.submit()
            assert after.command_status == CommandStatus.ESME_RTHROTTLED
            async with running_simulator(port=port) as again:
                await gateway.wait_upstream()
                resumed = await esme.submit()
                assert resumed.command_status == CommandStatus.ESME_ROK
                assert again.submitted == 1
            esme.close()


async def test_two_routes_fail_over(tmp_path):
    async with running_simulator() as primary, running_simulator() as backup:
        config = gateway_config(
            tmp_path,
            (route("primary", primary.port), route("backup", backup.port)),
            (account("bank", route="primary"),),
        )
        async with running_gateway(config) as gateway:
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            assert (await esme.submit()).command_status == CommandStatus.ESME_ROK
            await primary.stop()
            await asyncio.sleep(0.05)
            assert (await esme.submit()).command_status == CommandStatus.ESME_ROK
            assert (primary.submitted, backup.submitted) == (1, 1)
            esme.close()


async def test_tx_rx_upstream_pair_carries_messages_and_receipts(tmp_path):
    async with (
        running_simulator() as simulator,
        running_gateway(
            gateway_config(tmp_path, (route("r1", simulator.port, bind_mode="tx+rx"),))
        ) as gateway,
    ):
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        response = await esme.submit()
        assert response.command_status == CommandStatus.ESME_ROK
        assert await esme.wait_for(lambda: esme.receipts)
        assert esme.receipts[0].tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == response.params["message_id"]
        modes = sorted(mode for _, mode, *_ in simulator.binds)
        assert modes == ["rx", "tx"]
        esme.close()


async def test_pass_through_bind_mode_shows_the_accounts_own_system_id(tmp_path, monkeypatch):
    accounts = (
        account("bank", upstream_system_id="bank_up", upstream_password="pw1"),
        account("shop"),
    )
    async with (
        running_simulator() as simulator,
        running_gateway(
            gateway_config(tmp_path, (route("r1", simulator.port, system_id="shared"),), accounts)
        ) as gateway,
    ):
        bank = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        shop = await AsyncEsme.bind(gateway.smpp_port, "shop", PASSWORD)
        assert (await bank.submit()).command_status == CommandStatus.ESME_ROK
        assert (await shop.submit()).command_status == CommandStatus.ESME_ROK
        system_ids = {b[0] for b in simulator.binds}
        assert {"bank_up", "shared"} <= system_ids
        bank.close()
        shop.close()


async def test_garbage_on_one_connection_leaves_the_others_untouched(tmp_path):
    async with (
        running_simulator() as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        good = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.smpp_port)
        writer.write(b"\x00\x00\x00\x05GARBAGE" * 10)
        await writer.drain()
        nack = await asyncio.wait_for(reader.read(16), 5)
        assert int.from_bytes(nack[4:8], "big") == CommandId.GENERIC_NACK
        assert int.from_bytes(nack[8:12], "big") == CommandStatus.ESME_RINVCMDLEN
        assert await asyncio.wait_for(reader.read(100), 5) == b""  # closed
        answers = await asyncio.gather(*(good.submit() for _ in range(20)))
        assert all(a.command_status == CommandStatus.ESME_ROK for a in answers)
        good.close()


async def test_receipt_before_its_submit_resp_is_still_mapped(tmp_path):
    async with (
        running_simulator(receipt_before_response=True) as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        responses = [await esme.submit() for _ in range(5)]
        assert await esme.wait_for(lambda: len(esme.receipts) == 5)
        assert {r.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) for r in esme.receipts} == {
            r.params["message_id"] for r in responses
        }
        esme.close()


async def test_receipts_for_messages_sent_before_a_restart_reach_the_esme_after_it(tmp_path):
    async with running_simulator(receipt_delay_s=1.5) as simulator:
        config = gateway_config(tmp_path, (route("r1", simulator.port),))
        async with running_gateway(config) as gateway:
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, mode="tx")
            sent = [(await esme.submit()).params["message_id"] for _ in range(3)]
            esme.close()
        # Gateway down; the simulator keeps the receipts until a receiver binds again.
        async with running_gateway(config) as gateway:
            receiver = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, mode="rx")
            assert await receiver.wait_for(lambda: len(receiver.receipts) == 3, 15)
            assert sorted(
                r.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) for r in receiver.receipts
            ) == sorted(sent)
            receiver.close()


async def test_receipts_wait_on_disk_when_no_receiver_is_bound(tmp_path):
    async with (
        running_simulator(receipt_delay_s=0.05) as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        transmitter = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, mode="tx")
        sent = (await transmitter.submit(text=b"Your code is 482913")).params["message_id"]
        # The receipt reached the gateway, which has no receiver for it: it waits on disk.
        assert await until_async(lambda: pending_receipts(gateway))
        receiver = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, mode="rx")
        assert await receiver.wait_for(lambda: receiver.receipts)
        receipt = receiver.receipts[0]
        assert receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == sent
        assert b"482913" not in bytes(receipt.params["short_message"])
        transmitter.close()
        receiver.close()


async def test_interface_version_33_esme_gets_no_tlvs(tmp_path):
    async with (
        running_simulator() as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, interface_version=0x33)
        response = await esme.submit()
        assert response.command_status == CommandStatus.ESME_ROK
        assert await esme.wait_for(lambda: esme.receipts)
        assert esme.receipts[0].tlvs == ()
        assert bytes(esme.receipts[0].params["short_message"]).startswith(
            b"id:" + response.params["message_id"].encode()
        )
        esme.close()


async def test_query_and_cancel_use_the_gateway_id(tmp_path):
    from smpp_adapters.pdu import Pdu

    async with (
        running_simulator(receipt_delay_s=30) as simulator,
        running_gateway(
            gateway_config(
                tmp_path, (route("r1", simulator.port),), (account("bank"), account("other"))
            )
        ) as gateway,
    ):
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        other = await AsyncEsme.bind(gateway.smpp_port, "other", PASSWORD)
        gateway_id = (await esme.submit()).params["message_id"]
        query = await esme.connection.request(
            Pdu(CommandId.QUERY_SM, {"message_id": gateway_id, "source_addr": "TestBank"})
        )
        assert query.command_status == CommandStatus.ESME_ROK
        assert query.params["message_id"] == gateway_id
        foreign = await other.connection.request(
            Pdu(CommandId.QUERY_SM, {"message_id": gateway_id})
        )
        assert foreign.command_status == CommandStatus.ESME_RQUERYFAIL
        cancel = await esme.connection.request(
            Pdu(
                CommandId.CANCEL_SM,
                {
                    "message_id": gateway_id,
                    "source_addr": "TestBank",
                    "destination_addr": "447400123123",
                },
            )
        )
        assert cancel.command_status == CommandStatus.ESME_ROK
        esme.close()
        other.close()


async def test_a_vendor_tlv_reaches_the_smsc_byte_for_byte(tmp_path):
    async with (
        running_simulator(keep_records=True) as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        tlvs = [(0x1401, b"\x01\x02vendor\x00"), (Tag.USER_MESSAGE_REFERENCE, b"\x00\x2a")]
        sent = await esme.submit(text=b"\x00\x01binary\xff", data_coding=4, tlvs=tlvs)
        assert sent.command_status == CommandStatus.ESME_ROK
        record = simulator.records[-1]
        from smpp_adapters.pdu import Pdu, encode

        original = Pdu(
            CommandId.SUBMIT_SM,
            {
                "source_addr": "TestBank",
                "source_addr_ton": 5,
                "dest_addr_ton": 1,
                "dest_addr_npi": 1,
                "destination_addr": "447400123123",
                "short_message": b"\x00\x01binary\xff",
                "registered_delivery": 1,
                "data_coding": 4,
            },
            tlvs,
        )
        expected = encode(original)
        assert record.raw[16:] == expected[16:]  # everything but the sequence number
        esme.close()


async def test_mobile_originated_messages_go_to_the_mo_account(tmp_path):
    async with running_simulator() as simulator:
        config = gateway_config(
            tmp_path,
            (route("r1", simulator.port, system_id="otpgate"),),
            (account("bank"), account("inbox")),
            mo_account="inbox",
        )
        async with running_gateway(config) as gateway:
            inbox = await AsyncEsme.bind(gateway.smpp_port, "inbox", PASSWORD, mode="rx")
            bank = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            simulator.send_mo("otpgate", "447400123123", "12345", "STOP")
            assert await inbox.wait_for(lambda: inbox.delivered)
            mo = inbox.delivered[0]
            assert (mo.params["source_addr"], mo.params["destination_addr"]) == (
                "447400123123",
                "12345",
            )
            assert bytes(mo.params["short_message"]) == b"STOP"
            assert bank.delivered == []
            inbox.close()
            bank.close()


async def test_mobile_originated_without_mo_account_is_refused(tmp_path):
    async with (
        running_simulator() as simulator,
        running_gateway(
            gateway_config(tmp_path, (route("r1", simulator.port, system_id="otpgate"),))
        ) as gateway,
    ):
        bank = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        simulator.send_mo("otpgate", "447400123123", "12345", "STOP")
        deadline = asyncio.get_running_loop().time() + 5
        while simulator.deliveries_refused == 0 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert simulator.deliveries_refused == 1
        assert bank.delivered == []
        bank.close()


async def test_shutdown_answers_what_is_in_flight_and_unbinds(tmp_path):
    async with running_simulator(response_delay_s=0.3) as simulator:
        gateway_cm = running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),)))
        gateway = await gateway_cm.__aenter__()
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        in_flight = [asyncio.ensure_future(esme.submit()) for _ in range(10)]
        await asyncio.sleep(0.05)
        await gateway_cm.__aexit__(None, None, None)
        answers = await asyncio.gather(*in_flight)
        assert [a.command_status for a in answers] == [CommandStatus.ESME_ROK] * 10
        assert esme.ended  # the gateway unbound it
