#!/usr/bin/perl
# Net::SMPP in the SMSC role, as an upstream nobody here wrote: accepts one transceiver bind,
# answers each submit_sm with its own id ("perl-N") and a delivery receipt for it, prints one
# JSON line per submit_sm to stdout, and exits when the client unbinds or after a deadline.
# Usage: smsc_sink.pl PORT      (prints "listening" once ready)
use strict;
use warnings;
use Net::SMPP;
use JSON::PP;
use IO::Handle;

my ($port) = @ARGV;
STDOUT->autoflush(1);
alarm 60;    # never outlive a test run
my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34)
    or die "cannot listen on $port: $!\n";
print "listening\n";
my $conn = $listener->accept() or die "accept failed\n";
my $count = 0;
while (my $pdu = $conn->read_pdu()) {
    my $cmd = $pdu->{cmd};
    if ($cmd == Net::SMPP::CMD_bind_transceiver) {
        $conn->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'perlsmsc');
        print encode_json({ bind => $pdu->{system_id} }), "\n";
    } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
        $count++;
        my $id = "perl-$count";
        $conn->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
        print encode_json({ message_id => $id, destination_addr => $pdu->{destination_addr},
                            short_message => $pdu->{short_message} }), "\n";
        $conn->deliver_sm(
            source_addr => $pdu->{destination_addr}, destination_addr => $pdu->{source_addr},
            esm_class => 4, async => 1,
            short_message => "id:$id sub:001 dlvrd:001 submit date:2603011000 done date:2603011000 stat:DELIVRD err:000 text:",
            receipted_message_id => "$id\0", message_state => pack('C', 2),
        );
    } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
        $conn->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
        $conn->unbind_resp(seq => $pdu->{seq});
        last;
    }
}
exit 0;
