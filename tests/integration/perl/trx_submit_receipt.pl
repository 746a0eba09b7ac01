#!/usr/bin/perl
# Net::SMPP as an ESME nobody here wrote: bind transceiver, submit one message, wait for its
# delivery receipt, print {"message_id", "receipted_message_id", "text_id", ...} as JSON.
# Usage: trx_submit_receipt.pl HOST PORT SYSTEM_ID PASSWORD
use strict;
use warnings;
use Net::SMPP;
use JSON::PP;

my ($host, $port, $system_id, $password) = @ARGV;
alarm 20;    # never hang a test run
my ($smpp, $bound) = Net::SMPP->new_transceiver(
    $host, port => $port, system_id => $system_id, password => $password, timeout => 10,
);
die "cannot connect to $host:$port\n" if !$smpp;
die "bind refused: status $bound->{status}\n" if !$bound || $bound->{status};

my $resp = $smpp->submit_sm(
    source_addr_ton => 5, source_addr => 'PerlBank',
    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900123',
    short_message => 'Hello from Net::SMPP', registered_delivery => 1,
) or die "no submit_sm_resp\n";
die "submit_sm refused: status $resp->{status}\n" if $resp->{status};

my $receipt;
while (my $pdu = $smpp->read_pdu()) {
    if ($pdu->{cmd} == Net::SMPP::CMD_deliver_sm) {
        $smpp->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
        $receipt = $pdu;
        last;
    }
    $smpp->enquire_link_resp(seq => $pdu->{seq}) if $pdu->{cmd} == Net::SMPP::CMD_enquire_link;
}
die "no receipt\n" if !$receipt;
(my $receipted = $receipt->{receipted_message_id} // '') =~ s/\0+$//;
my ($text_id) = $receipt->{short_message} =~ /(?:^|\s)id:(\S+)/i;
print encode_json({
    message_id => $resp->{message_id},
    receipted_message_id => $receipted,
    text_id => $text_id,
    esm_class => $receipt->{esm_class},
    message_state => unpack('C', $receipt->{message_state} // "\0"),
    short_message => $receipt->{short_message},
}), "\n";
$smpp->unbind();
exit 0;
